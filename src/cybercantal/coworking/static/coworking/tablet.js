/* The tablet at a tiers-lieu's entrance: check-in by PIN or by card (QR code or the code
   printed under it), kept working without network.

   Each arrival becomes an item {client_uuid, method, pin|code, at} pushed to a queue in
   localStorage (one queue per place), then the queue is sent as JSON to the server, which
   answers item by item: ok, duplicate (already received: same client_uuid, nothing written
   twice) or refused (with a French message). An item leaves the queue only once the server
   has answered for it; when the network fails, it stays, the page says "enregistrée, sera
   envoyée" and the queue is sent again when the browser is back online, every 20 seconds,
   and at the next page load. Without JavaScript, the forms post normally. */
(function () {
  "use strict";

  var root = document.getElementById("tablette");
  if (!root) return;
  var endpoint = root.dataset.endpoint;
  var storageKey = "cybercantal.tablette." + root.dataset.place + ".file";
  var statusBox = document.getElementById("tablette-etat");
  var queueBox = document.getElementById("tablette-file");
  var pinForm = document.getElementById("tablette-form-pin");
  var pinInput = document.getElementById("id_tablette_pin");
  var codeForm = document.getElementById("tablette-form-code");
  var codeInput = document.getElementById("id_tablette_code");
  var sending = false;
  var clearTimer = null;

  function csrfToken() {
    var input = root.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function newUuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    // Older browsers: RFC 4122 version 4 from getRandomValues.
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); });
    return h.slice(0, 4).join("") + "-" + h.slice(4, 6).join("") + "-" + h.slice(6, 8).join("") +
      "-" + h.slice(8, 10).join("") + "-" + h.slice(10).join("");
  }

  function readQueue() {
    try {
      var items = JSON.parse(localStorage.getItem(storageKey) || "[]");
      return Array.isArray(items) ? items : [];
    } catch (e) {
      return [];
    }
  }

  function writeQueue(items) {
    try {
      localStorage.setItem(storageKey, JSON.stringify(items));
    } catch (e) { /* storage full or forbidden: the item is still sent now if possible */ }
    showQueue(items);
  }

  function showQueue(items) {
    items = items || readQueue();
    if (!items.length) {
      queueBox.hidden = true;
      queueBox.textContent = "";
      return;
    }
    queueBox.hidden = false;
    queueBox.textContent = items.length === 1
      ? "1 arrivée en attente d'envoi."
      : items.length + " arrivées en attente d'envoi.";
  }

  function say(message, kind) {
    statusBox.textContent = message;
    statusBox.className = "tablet__status tablet__status--" + (kind || "info");
    window.clearTimeout(clearTimer);
    clearTimer = window.setTimeout(function () {
      statusBox.textContent = "";
      statusBox.className = "tablet__status";
    }, 15000);
  }

  function enqueue(item) {
    item.client_uuid = newUuid();
    item.at = new Date().toISOString();
    var items = readQueue();
    items.push(item);
    writeQueue(items);
    return item.client_uuid;
  }

  // Sends the whole queue; `watched` is the client_uuid of the arrival just typed, whose
  // answer is shown on screen (the others' answers too when they are refusals).
  function send(watched) {
    var items = readQueue();
    if (!items.length) return Promise.resolve();
    if (sending) {
      if (watched) say("Arrivée enregistrée, elle sera envoyée dans un instant.", "info");
      return Promise.resolve();
    }
    sending = true;
    return fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": csrfToken()
      },
      body: JSON.stringify({ items: items.slice(0, 100) })
    }).then(function (response) {
      if (response.status === 401 || response.status === 403) {
        throw new Error("session");
      }
      if (response.status === 400) {
        return response.json().then(function (body) {
          // The queue itself is unreadable for the server: drop it rather than loop for ever.
          writeQueue([]);
          say(body.error || "Les arrivées en attente n'ont pas pu être lues.", "error");
        });
      }
      if (!response.ok) throw new Error("server");
      return response.json().then(function (body) {
        var answered = {};
        (body.results || []).forEach(function (result) {
          if (!result.client_uuid) return;
          answered[result.client_uuid] = true;
          if (result.client_uuid === watched) {
            say(result.message, result.status === "refused" ? "error" : "success");
          } else if (result.status === "refused") {
            say("Arrivée précédente non enregistrée : " + result.message, "error");
          }
        });
        writeQueue(readQueue().filter(function (item) { return !answered[item.client_uuid]; }));
      });
    }).catch(function (error) {
      if (error && error.message === "session") {
        say("La session de la tablette a expiré : reconnectez-vous. Les arrivées en attente seront envoyées ensuite.", "error");
      } else if (watched) {
        say("Arrivée enregistrée, elle sera envoyée dès le retour du réseau.", "info");
      }
      showQueue();
    }).then(function () {
      sending = false;
    });
  }

  function record(item) {
    var id = enqueue(item);
    if (navigator.onLine === false) {
      say("Arrivée enregistrée, elle sera envoyée dès le retour du réseau.", "info");
      return Promise.resolve();
    }
    return send(id);
  }

  // --- PIN ---------------------------------------------------------------------------------
  var pad = document.getElementById("tablette-pave");
  pad.hidden = false;
  pad.addEventListener("click", function (event) {
    var key = event.target.closest("button");
    if (!key || key.type === "submit") return;
    if (key.dataset.action === "effacer") {
      pinInput.value = pinInput.value.slice(0, -1);
    } else if (key.dataset.digit && pinInput.value.length < 6) {
      pinInput.value += key.dataset.digit;
    }
  });
  pinForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var pin = pinInput.value.trim();
    if (!/^[0-9]{6}$/.test(pin)) {
      say("Le code PIN compte 6 chiffres.", "error");
      pinInput.focus();
      return;
    }
    pinInput.value = "";
    record({ method: "pin", pin: pin });
  });

  // --- Card: the code typed, or read by the camera --------------------------------------------
  codeForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var code = codeInput.value.trim();
    if (!code) {
      say("Tapez le code imprimé sous le QR code.", "error");
      codeInput.focus();
      return;
    }
    codeInput.value = "";
    record({ method: "qr", code: code });
  });

  var scanBox = document.getElementById("tablette-scan");
  var scanButton = document.getElementById("tablette-scan-bouton");
  var stopButton = document.getElementById("tablette-scan-stop");
  var video = document.getElementById("tablette-video");
  var stream = null;
  var scanTimer = null;

  function stopScan() {
    window.clearTimeout(scanTimer);
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    video.hidden = true;
    stopButton.hidden = true;
    scanButton.hidden = false;
  }

  function startScan(detector) {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        video.hidden = false;
        stopButton.hidden = false;
        scanButton.hidden = true;
        return video.play();
      })
      .then(function () {
        var started = Date.now();
        function look() {
          if (!stream) return;
          if (Date.now() - started > 60000) { stopScan(); return; }
          detector.detect(video).then(function (codes) {
            var found = codes.length ? String(codes[0].rawValue || "").trim() : "";
            if (found) {
              stopScan();
              record({ method: "qr", code: found });
            } else {
              scanTimer = window.setTimeout(look, 300);
            }
          }).catch(function () { scanTimer = window.setTimeout(look, 500); });
        }
        look();
      })
      .catch(function () {
        stopScan();
        say("La caméra n'est pas disponible : tapez le code imprimé sous le QR code.", "error");
      });
  }

  if ("BarcodeDetector" in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    Promise.resolve(window.BarcodeDetector.getSupportedFormats ? window.BarcodeDetector.getSupportedFormats() : ["qr_code"])
      .then(function (formats) {
        if (formats.indexOf("qr_code") === -1) return;
        var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
        scanBox.hidden = false;
        scanButton.addEventListener("click", function () { startScan(detector); });
        stopButton.addEventListener("click", stopScan);
      })
      .catch(function () { /* no scanner: the typed code remains */ });
  }

  // --- Sending what is waiting ----------------------------------------------------------------
  window.addEventListener("online", function () { send(null); });
  window.setInterval(function () {
    if (navigator.onLine !== false) send(null);
  }, 20000);
  showQueue();
  if (navigator.onLine !== false) send(null);
})();
