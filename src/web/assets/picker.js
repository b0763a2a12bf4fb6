// A list of checkboxes (`.picker`) that narrows as a name is typed in its
// search box. Without this script the box stays hidden and the list works
// as it is; chosen people stay listed whatever is typed.
document.querySelectorAll('.picker').forEach(function (box) {
  var filter = box.querySelector('.picker-filter');
  var status = box.querySelector('.picker-status');
  if (!filter) {
    return;
  }
  filter.hidden = false;
  filter.addEventListener('input', function () {
    var typed = filter.value.trim().toLowerCase();
    var shown = 0;
    box.querySelectorAll('.picker-list label').forEach(function (label) {
      var fits = typed === '' || label.textContent.toLowerCase().indexOf(typed) !== -1;
      label.hidden = !fits && !label.querySelector('input').checked;
      if (!label.hidden) {
        shown += 1;
      }
    });
    if (status) {
      status.textContent = typed === '' ? '' : shown + (shown === 1 ? ' person listed' : ' people listed');
    }
  });
});
