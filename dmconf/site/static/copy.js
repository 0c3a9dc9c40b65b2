/* dmconf catalogue: the copy buttons of a dataset's page (hidden until this script runs).
 * Copies the exact text of the element a button names (data-copy), through the Clipboard API
 * where the page may use it (https, localhost, file://), else through a selected text area. */
(function () {
  "use strict";

  var live = document.getElementById("copy-status");

  function viaSelection(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
    document.body.removeChild(area);
    return copied ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return viaSelection(text); });
    }
    return viaSelection(text);
  }

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      copy(source.textContent).then(function () {
        button.textContent = "Copied";
        live.textContent = "Copied to the clipboard.";
        setTimeout(function () { button.textContent = "Copy"; }, 2000);
      }, function () {
        live.textContent = "Could not copy: select the text and copy it by hand.";
      });
    });
  });
})();
