/* CyberCantal maps (Leaflet 1.9.4, vendored in core/vendor/leaflet).
 *
 * Every map is a <div class="map" data-map ...> whose data attributes say what to show:
 *   data-center="[lat, lon]"  data-zoom="9"            initial view
 *   data-tiles-url, data-tiles-attribution            background tiles (OpenStreetMap by default)
 *   data-communes-url                                 GeoJSON of commune outlines, fetched
 *   data-places-url                                   GeoJSON of places, fetched
 *   data-geojson="element id"                         GeoJSON embedded with json_script
 *   data-filter-form="form id"                        checkboxes name="type" filter the markers
 *   data-fit="features"                               fit the view to what is shown
 * French labels come from the json_script element #map-i18n.
 *
 * A map is never the only way to the information: each page also lists the same places as
 * text. When the tiles cannot load (offline, blocked), the outlines and markers still show on a
 * plain background and a short note says so.
 */
(function () {
  "use strict";

  if (typeof window.L === "undefined") {
    return;
  }
  var L = window.L;

  function readJson(id, fallback) {
    var element = id && document.getElementById(id);
    if (!element) {
      return fallback;
    }
    try {
      return JSON.parse(element.textContent);
    } catch (error) {
      return fallback;
    }
  }

  var labels = readJson("map-i18n", {});
  function label(key, fallback) {
    return labels[key] || fallback;
  }

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function safeColor(value) {
    return /^#(?:[0-9a-fA-F]{3}){1,2}$/.test(value || "") ? value : cssVar("--primary", "#1d4f91");
  }

  function el(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function placePopup(properties) {
    var box = el("div");
    var title = el("p");
    var link = el("a", { href: properties.url }, properties.name);
    title.appendChild(el("strong")).appendChild(link);
    box.appendChild(title);
    var kinds = (properties.kinds || []).map(function (k) { return k.label; }).join(", ");
    if (kinds) {
      box.appendChild(el("p", {}, kinds));
    }
    if (properties.commune) {
      box.appendChild(el("p", {}, properties.commune));
    }
    if (properties.is_demo) {
      box.appendChild(el("p", { "class": "badge badge--demo" }, label("demo", "Démonstration")));
    }
    return box;
  }

  function communePopup(properties) {
    var box = el("div");
    var title = el("p");
    title.appendChild(el("strong", {}, properties.name));
    box.appendChild(title);
    if (properties.url) {
      box.appendChild(el("p")).appendChild(
        el("a", { href: properties.url }, label("seeCommune", "Voir la commune"))
      );
    }
    return box;
  }

  function markerFor(feature, latlng) {
    var properties = feature.properties || {};
    var kinds = properties.kinds || [];
    var color = safeColor(properties.color || (kinds[0] && kinds[0].color));
    var kindLabels = kinds.map(function (k) { return k.label; }).join(", ");
    var name = properties.name + (kindLabels ? " — " + kindLabels : "");
    var dot = '<span class="map-marker__dot" style="background:' + color + '"></span>';
    var marker = L.marker(latlng, {
      icon: L.divIcon({ className: "map-marker", html: dot, iconSize: [44, 44] }),
      title: name,
      alt: name,
      keyboard: true,
      riseOnHover: true,
    });
    marker.bindPopup(function () { return placePopup(properties); });
    marker.kindCodes = kinds.map(function (k) { return k.code; });
    return marker;
  }

  function outlineLayer(data, highlight) {
    var primary = cssVar("--primary", "#1d4f91");
    return L.geoJSON(data, {
      filter: function (feature) {
        return feature.geometry && feature.geometry.type !== "Point";
      },
      style: function (feature) {
        var strong = highlight || (feature.properties && feature.properties.highlight);
        return {
          color: primary,
          weight: strong ? 3 : 1,
          opacity: strong ? 1 : 0.7,
          fillColor: primary,
          fillOpacity: strong ? 0.15 : 0.04,
        };
      },
      onEachFeature: function (feature, layer) {
        var properties = feature.properties || {};
        if (properties.name) {
          layer.bindTooltip(properties.name, { sticky: true });
        }
        if (properties.url) {
          layer.bindPopup(function () { return communePopup(properties); });
        }
        // Outlines are for the mouse and the eye: keyboard and screen-reader users reach
        // communes through the search and the lists, not through 250 unnamed tab stops.
        layer.on("add", function () {
          var element = layer.getElement && layer.getElement();
          if (element) {
            element.setAttribute("tabindex", "-1");
            element.setAttribute("focusable", "false");
            element.setAttribute("aria-hidden", "true");
          }
        });
      },
    });
  }

  function placeLayer(data) {
    return L.geoJSON(data, {
      filter: function (feature) {
        return feature.geometry && feature.geometry.type === "Point";
      },
      pointToLayer: markerFor,
    });
  }

  // Said once, under the map rather than over it (small screens have little map to spare).
  function addTileNotice(container) {
    var notice = el(
      "p",
      { "class": "map-status", role: "status" },
      label(
        "tilesError",
        "Le fond de carte n'a pas pu être chargé : les contours des communes restent affichés."
      )
    );
    container.insertAdjacentElement("afterend", notice);
  }

  function checkedKinds(form) {
    return Array.prototype.map.call(
      form.querySelectorAll('input[name="type"]:checked'),
      function (input) { return input.value; }
    );
  }

  function applyFilter(form, markersLayer, visibleLayer) {
    var codes = checkedKinds(form);
    markersLayer.eachLayer(function (marker) {
      var visible = marker.kindCodes.some(function (code) { return codes.indexOf(code) !== -1; });
      if (visible && !visibleLayer.hasLayer(marker)) {
        visibleLayer.addLayer(marker);
      } else if (!visible && visibleLayer.hasLayer(marker)) {
        visibleLayer.removeLayer(marker);
      }
    });
  }

  function fetchJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.status);
        }
        return response.json();
      });
  }

  function initMap(container) {
    var center = JSON.parse(container.dataset.center || "[45.05, 2.65]");
    var zoom = parseInt(container.dataset.zoom || "9", 10);
    var map = L.map(container, {
      center: center,
      zoom: zoom,
      zoomControl: false,
      scrollWheelZoom: false, // scrolling the page must not zoom the map by surprise
      keyboard: true,
    });
    L.control.zoom({
      zoomInTitle: label("zoomIn", "Zoomer"),
      zoomOutTitle: label("zoomOut", "Dézoomer"),
    }).addTo(map);
    map.attributionControl.setPrefix('<a href="https://leafletjs.com/">Leaflet</a>');

    if (container.dataset.tilesUrl) {
      var tilesFailed = false;
      L.tileLayer(container.dataset.tilesUrl, {
        maxZoom: 19,
        attribution: container.dataset.tilesAttribution || "",
        // The site sends no Referer cross-origin (SECURE_REFERRER_POLICY = "same-origin"), but
        // OpenStreetMap's tile usage policy requires one: send our origin, nothing more.
        referrerPolicy: "strict-origin-when-cross-origin",
      })
        .on("tileerror", function () {
          if (!tilesFailed) {
            tilesFailed = true;
            addTileNotice(container);
          }
        })
        .addTo(map);
    }
    if (container.dataset.dataAttribution) {
      map.attributionControl.addAttribution(container.dataset.dataAttribution);
    }

    // Leaflet's popup close button is labelled in English; say it in French.
    map.on("popupopen", function (event) {
      var button = event.popup.getElement().querySelector(".leaflet-popup-close-button");
      if (button) {
        button.setAttribute("aria-label", label("close", "Fermer"));
        button.setAttribute("title", label("close", "Fermer"));
      }
    });

    var fitGroup = L.featureGroup().addTo(map);
    var allMarkers = L.layerGroup();
    var visibleMarkers = L.layerGroup().addTo(map);
    var form = container.dataset.filterForm && document.getElementById(container.dataset.filterForm);
    var fit = container.dataset.fit === "features";

    function fitView() {
      if (!fit) {
        return;
      }
      var bounds = fitGroup.getLayers().length ? fitGroup.getBounds() : L.latLngBounds([]);
      visibleMarkers.eachLayer(function (marker) { bounds.extend(marker.getLatLng()); });
      if (bounds.isValid()) {
        map.fitBounds(bounds, { padding: [48, 48], maxZoom: 14 });
      }
    }

    function addData(data) {
      fitGroup.addLayer(outlineLayer(data, false));
      placeLayer(data).eachLayer(function (marker) { allMarkers.addLayer(marker); });
      refreshMarkers();
    }

    function refreshMarkers() {
      if (form) {
        applyFilter(form, allMarkers, visibleMarkers);
      } else {
        allMarkers.eachLayer(function (marker) {
          if (!visibleMarkers.hasLayer(marker)) {
            visibleMarkers.addLayer(marker);
          }
        });
      }
    }

    var embedded = readJson(container.dataset.geojson, null);
    if (embedded) {
      addData(embedded);
      fitView();
    }
    var pending = [];
    if (container.dataset.communesUrl) {
      pending.push(
        fetchJson(container.dataset.communesUrl).then(function (data) {
          fitGroup.addLayer(outlineLayer(data, false));
        })
      );
    }
    if (container.dataset.placesUrl) {
      pending.push(
        fetchJson(container.dataset.placesUrl).then(function (data) {
          placeLayer(data).eachLayer(function (marker) { allMarkers.addLayer(marker); });
          refreshMarkers();
        })
      );
    }
    Promise.all(pending)
      .then(function () {
        fitView();
        container.dataset.ready = "true";
      })
      .catch(function () {
        container.dataset.ready = "error";
      });

    if (form) {
      form.addEventListener("change", function () { refreshMarkers(); });
    }
    return map;
  }

  function initAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-map]"), function (container) {
      if (!container.dataset.initialised) {
        container.dataset.initialised = "true";
        initMap(container);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", initAll);
  } else {
    initAll();
  }
})();
