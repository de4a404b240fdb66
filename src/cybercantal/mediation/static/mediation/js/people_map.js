/* The communes of the people helped (mediation dashboard): one circle per commune, its area
   following the number of people. The same list is a table under the map; the circles are
   named for screen readers and reachable by keyboard. Data: the JSON script named by
   data-geojson (Point features with properties name, radius, label). */
(function () {
  "use strict";

  function init(container) {
    var source = document.getElementById(container.dataset.geojson);
    if (!source || typeof L === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var center = JSON.parse(container.dataset.center || "[45.05, 2.65]");
    var map = L.map(container, {
      center: center,
      zoom: parseInt(container.dataset.zoom || "9", 10),
      scrollWheelZoom: false, // scrolling the page must not zoom the map by surprise
    });
    map.attributionControl.setPrefix('<a href="https://leafletjs.com/">Leaflet</a>');
    if (container.dataset.tilesUrl) {
      L.tileLayer(container.dataset.tilesUrl, {
        maxZoom: 19,
        attribution: container.dataset.tilesAttribution || "",
        referrerPolicy: "strict-origin-when-cross-origin",
      }).addTo(map);
    }
    var primary = getComputedStyle(document.documentElement).getPropertyValue("--primary").trim() || "#1d4f91";
    var layer = L.geoJSON(data, {
      pointToLayer: function (feature, latlng) {
        var p = feature.properties || {};
        var circle = L.circleMarker(latlng, {
          radius: p.radius || 6,
          color: primary,
          weight: 1,
          fillColor: primary,
          fillOpacity: 0.45,
        });
        circle.bindTooltip(p.label || p.name || "");
        circle.on("add", function () {
          var element = circle.getElement && circle.getElement();
          if (element) {
            element.setAttribute("tabindex", "0");
            element.setAttribute("role", "img");
            element.setAttribute("aria-label", p.label || p.name || "");
            element.addEventListener("focus", function () { circle.openTooltip(); });
            element.addEventListener("blur", function () { circle.closeTooltip(); });
          }
        });
        return circle;
      },
    }).addTo(map);
    if (layer.getLayers().length) {
      map.fitBounds(layer.getBounds(), { padding: [32, 32], maxZoom: 11 });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-people-map]"), init);
  });
})();
