// The run page's live log (docs/architecture.md §15): the console's own SSE route, which relays
// stack-trigger's stream with the session. Without JavaScript the page still shows the log so far.
(function () {
  'use strict';
  var log = document.getElementById('log');
  if (!log || log.dataset.complete === 'true' || typeof EventSource === 'undefined') return;
  var badge = document.getElementById('run-state');
  var timeline = document.getElementById('timeline');
  var status = document.getElementById('log-status');
  var last = Number(log.dataset.after);
  var source = new EventSource(log.dataset.stream + '?after=' + encodeURIComponent(String(last)));

  function showState(state, at) {
    if (badge) {
      badge.textContent = state;
      badge.className = 'state state-' + state.toLowerCase();
    }
    if (timeline) {
      var item = document.createElement('li');
      var span = document.createElement('span');
      span.className = 'state state-' + state.toLowerCase();
      span.textContent = state;
      item.appendChild(span);
      var shown = (at || '').replace('T', ' ').replace(/\.\d+Z$/, 'Z');
      item.appendChild(document.createTextNode(' ' + shown));
      timeline.appendChild(item);
    }
  }

  source.addEventListener('chunk', function (event) {
    var chunk = JSON.parse(event.data);
    if (chunk.seq <= last) return;
    last = chunk.seq;
    var span = document.createElement('span');
    span.className = chunk.stream;
    span.dataset.seq = String(chunk.seq);
    span.textContent = chunk.text;
    var following = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.appendChild(span);
    if (following) log.scrollTop = log.scrollHeight;
  });
  source.addEventListener('state', function (event) {
    var data = JSON.parse(event.data);
    if (badge && badge.textContent === data.state) return;
    showState(data.state, data.at);
  });
  source.addEventListener('end', function (event) {
    source.close();
    var data = JSON.parse(event.data);
    if (badge && badge.textContent !== data.state) showState(data.state);
    log.dataset.complete = 'true';
    if (status) status.textContent = 'The run is over (' + data.state + '); this is its whole log.';
  });
})();
