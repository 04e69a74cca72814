// Keymint console: progressive enhancement only. Every page works without this file; it adds a copy
// button beside one-time secrets, shows the client form's inputs of the chosen authentication method
// only, and lets the traffic charts redraw themselves. No inline script,
// no eval, no remote origin: it runs under the console's Content-Security-Policy as is.
'use strict';

// Copy buttons: <button data-copy="ID" hidden> copies the value of #ID; the status is announced.
for (const button of document.querySelectorAll('button[data-copy]')) {
  const source = document.getElementById(button.dataset.copy);
  const status = document.querySelector(`[data-copy-status="${button.dataset.copy}"]`);
  if (!source || !navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(source.value ?? source.textContent);
      if (status) status.textContent = 'Copied to the clipboard.';
    } catch {
      source.select?.();
      if (status) status.textContent = 'Copy failed: the value is selected, press Ctrl+C.';
    }
  });
}

// The client form: a control in <div data-methods="private_key_jwt …"> is shown only while the
// authentication method select names one of those methods. The server reads it only then anyway.
const method = document.getElementById('f-auth_method');
if (method) {
  const sync = () => {
    for (const part of document.querySelectorAll('[data-methods]')) part.hidden = !part.dataset.methods.split(' ').includes(method.value);
  };
  method.addEventListener('change', sync);
  sync();
}

// Self-refreshing regions: <section id="…" data-refresh="SECONDS"> is replaced by the same region of
// a fresh copy of this page (server-rendered SVG), while the tab is visible and not paused.
for (const region of document.querySelectorAll('[data-refresh]')) {
  const seconds = Math.max(1, Number(region.dataset.refresh) || 5);
  const toggle = document.querySelector(`[data-refresh-toggle="${region.id}"]`);
  const stamp = document.querySelector(`[data-refresh-stamp="${region.id}"]`);
  let paused = false;
  let busy = false;
  if (toggle) {
    toggle.hidden = false;
    toggle.addEventListener('click', () => {
      paused = !paused;
      toggle.textContent = paused ? 'Resume updates' : 'Pause updates';
      toggle.setAttribute('aria-pressed', String(paused));
    });
  }
  const refresh = async () => {
    if (paused || busy || document.hidden) return;
    busy = true;
    try {
      const response = await fetch(location.href, { headers: { Accept: 'text/html' }, credentials: 'same-origin', cache: 'no-store' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const fresh = new DOMParser().parseFromString(await response.text(), 'text/html').getElementById(region.id);
      if (!fresh) throw new Error('the region is missing from the page');
      region.replaceChildren(...fresh.childNodes);
      if (stamp) stamp.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      if (stamp) stamp.textContent = `Update failed (${err.message}); retrying.`;
    } finally {
      busy = false;
    }
  };
  setInterval(refresh, seconds * 1000);
}
