// "Add a row": clone the last row of a report table with empty inputs and renumbered names.
document.querySelectorAll("[data-add-row]").forEach(function (button) {
  button.addEventListener("click", function () {
    var box = button.closest("[data-table]"), key = box.dataset.table;
    var counter = box.querySelector("[data-rows]"), rows = box.querySelectorAll("[data-row]");
    var index = parseInt(counter.value, 10), clone = rows[rows.length - 1].cloneNode(true);
    clone.querySelector("th").textContent = index + 1;
    clone.querySelectorAll("input, textarea, select, label").forEach(function (el) {
      ["name", "id", "for"].forEach(function (attr) {
        var v = el.getAttribute(attr);
        if (v) el.setAttribute(attr, v.replace(new RegExp("^" + key + "-\\d+-"), key + "-" + index + "-"));
      });
      if (el.tagName !== "LABEL") el.value = "";
    });
    rows[rows.length - 1].parentNode.appendChild(clone);
    counter.value = index + 1;
  });
});
