// QRBOOK console: small enhancements only; every page works without this file.
// - <details class="menu"> starts open on a wide screen (on a phone the menu is folded).
// - [data-confirm] forms ask before they post (cancel, delete, reject).
// - [data-select-all] checkboxes tick every checkbox named in their value within the same form.
document.addEventListener('DOMContentLoaded', function () {
  var menu = document.querySelector('details.menu')
  if (menu && window.matchMedia('(min-width: 900px)').matches) menu.open = true
  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (!window.confirm(form.getAttribute('data-confirm'))) event.preventDefault()
    })
  })
  document.querySelectorAll('input[data-select-all]').forEach(function (box) {
    box.addEventListener('change', function () {
      var name = box.getAttribute('data-select-all')
      document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (other) { other.checked = box.checked })
    })
  })
})
