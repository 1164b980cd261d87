// The upload form: a file larger than the server accepts is refused before it is sent
// (the limit and the message come from the input's data attributes).
(function () {
  var input = document.querySelector(".import-form input[type=file][data-max-bytes]");
  if (!input) { return; }
  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    var tooLarge = file && file.size > Number(input.dataset.maxBytes);
    input.setCustomValidity(tooLarge ? input.dataset.tooLarge : "");
    if (tooLarge) { input.reportValidity(); }
  });
  input.form.addEventListener("submit", function (event) {
    if (input.validity.customError) { event.preventDefault(); input.reportValidity(); }
  });
})();
