// The error summary of a form (includes/form_errors.html): each link puts the cursor
// in its field; a plain link to an anchor would only scroll to it.
(function () {
  var summary = document.getElementById("erreurs-formulaire");
  if (!summary) return;
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    var target = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    var field = target.matches("input, select, textarea")
      ? target
      : target.querySelector("input, select, textarea");
    if (!field) return;
    event.preventDefault();
    field.focus();
    field.scrollIntoView({ block: "center" });
  });
})();
