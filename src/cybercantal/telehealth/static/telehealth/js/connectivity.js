// The connectivity test of a site (telehealth/connectivity/test.html).
//
// Measures, from this browser to the platform:
// - the time to answer: 10 small requests in a row (after one to open the connection); the
//   median is the latency, the mean difference between consecutive answers the jitter;
// - the download speed: random bytes fetched from the platform (incompressible, never cached),
//   first 1 Mo to gauge the line, then enough for about 4 seconds (25 Mo at most);
// - the upload speed: random bytes sent and thrown away by the platform, likewise gauged.
// It then posts the figures with the page's hidden form; the server decides what they allow.
// Without JavaScript the page offers to type the figures of another test instead.
(function () {
  "use strict";

  var root = document.getElementById("test-connexion");
  var button = document.getElementById("lancer-test-bouton");
  var status = document.getElementById("test-connexion-etat");
  var form = document.getElementById("test-connexion-envoi");
  var textsNode = document.getElementById("test-connexion-textes");
  var zone = document.getElementById("lancer-test-zone");
  if (!root || !button || !status || !form || !textsNode || !zone) return;
  if (!window.fetch || !window.performance || !window.crypto || !window.Promise) return;

  var texts = JSON.parse(textsNode.textContent);
  var maxDownload = parseInt(root.dataset.maxDownload, 10) || 25000000;
  var maxUpload = parseInt(root.dataset.maxUpload, 10) || 10000000;
  var csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  var TARGET_SECONDS = 4;
  var SLOW_SECONDS = 8; // a gauge this slow is measure enough
  var TIMEOUT_MS = 60000;

  function Busy(message) {
    this.message = message;
  }

  function say(text) {
    status.textContent = text;
  }

  function clamp(value, low, high) {
    return Math.max(low, Math.min(high, value));
  }

  function timedFetch(url, options) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    var opts = Object.assign(
      { credentials: "same-origin", cache: "no-store" },
      options || {},
      controller ? { signal: controller.signal } : {}
    );
    var start = performance.now();
    return fetch(url, opts)
      .then(function (response) {
        if (response.status === 429) throw new Busy(texts.busy);
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.arrayBuffer();
      })
      .then(function (body) {
        if (timer) clearTimeout(timer);
        return { seconds: (performance.now() - start) / 1000, bytes: body.byteLength };
      }, function (error) {
        if (timer) clearTimeout(timer);
        throw error;
      });
  }

  function withNonce(url) {
    return url + (url.indexOf("?") === -1 ? "?" : "&") + "n=" + Date.now() + Math.random();
  }

  function median(values) {
    var sorted = values.slice().sort(function (a, b) { return a - b; });
    var middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  }

  function measureLatency() {
    var samples = [];
    var chain = timedFetch(withNonce(root.dataset.ping)); // opens the connection: not counted
    for (var i = 0; i < 10; i++) {
      chain = chain.then(function () {
        return timedFetch(withNonce(root.dataset.ping)).then(function (result) {
          samples.push(result.seconds * 1000);
        });
      });
    }
    return chain.then(function () {
      var jitter = 0;
      for (var j = 1; j < samples.length; j++) jitter += Math.abs(samples[j] - samples[j - 1]);
      return { latency: median(samples), jitter: jitter / (samples.length - 1) };
    });
  }

  function mbps(result) {
    return (result.bytes * 8) / Math.max(result.seconds, 0.001) / 1000000;
  }

  function download(size) {
    var url = root.dataset.download + "?taille=" + Math.round(size) + "&n=" + Date.now();
    return timedFetch(url);
  }

  function measureDownload() {
    return download(1000000).then(function (gauge) {
      if (gauge.seconds >= SLOW_SECONDS) return mbps(gauge);
      var size = clamp((mbps(gauge) * 1000000 / 8) * TARGET_SECONDS, 2000000, maxDownload);
      return download(size).then(mbps);
    });
  }

  function randomBlob(size) {
    var bytes = new Uint8Array(size);
    for (var offset = 0; offset < size; offset += 65536) {
      window.crypto.getRandomValues(bytes.subarray(offset, Math.min(size, offset + 65536)));
    }
    return new Blob([bytes], { type: "application/octet-stream" });
  }

  function upload(size) {
    return timedFetch(withNonce(root.dataset.upload), {
      method: "POST",
      headers: { "X-CSRFToken": csrf, "Content-Type": "application/octet-stream" },
      body: randomBlob(Math.round(size))
    }).then(function (result) {
      result.bytes = Math.round(size); // the answer is short; what counts is what was sent
      return result;
    });
  }

  function measureUpload() {
    var limit = Math.min(8000000, maxUpload);
    return upload(250000).then(function (gauge) {
      if (gauge.seconds >= SLOW_SECONDS) return mbps(gauge);
      var size = clamp((mbps(gauge) * 1000000 / 8) * TARGET_SECONDS, 500000, limit);
      return upload(size).then(mbps);
    });
  }

  function setField(name, value) {
    form.querySelector("[name=" + name + "]").value = value;
  }

  zone.hidden = false;
  var fallback = document.getElementById("test-connexion-sans-script");
  if (fallback) fallback.hidden = true;
  button.addEventListener("click", function () {
    var figures = {};
    button.disabled = true;
    root.setAttribute("aria-busy", "true");
    say(texts.latency);
    measureLatency()
      .then(function (result) {
        figures.latency = result.latency;
        figures.jitter = result.jitter;
        say(texts.download);
        return measureDownload();
      })
      .then(function (down) {
        figures.download = down;
        say(texts.upload);
        return measureUpload();
      })
      .then(function (up) {
        figures.upload = up;
        say(texts.saving);
        setField("download_mbps", figures.download.toFixed(2));
        setField("upload_mbps", figures.upload.toFixed(2));
        setField("latency_ms", String(Math.round(figures.latency)));
        setField("jitter_ms", String(Math.round(figures.jitter)));
        form.submit();
      })
      .catch(function (error) {
        say(error instanceof Busy ? error.message : texts.failed);
        button.disabled = false;
        root.removeAttribute("aria-busy");
      });
  });
})();
