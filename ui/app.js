// The UI's entry: login with an API key (kept in sessionStorage) and a hash router over the pages.
// Plain browser modules, no build step: each page is one file of ui/.

import { $, api, session } from './dom.js';
import { initActivityView, openMpid } from './activity-view.js';
import { closeLiveStream, openLiveStream } from './live-stream.js';
import { closeAudiences, openAudiences } from './audiences.js';
import { openCalculatedAttributes } from './calculated-attributes.js';

const VIEWS = ['activity', 'live', 'audiences', 'calculated'];

async function showSession() {
  const s = await api('/v1/activity/session');
  session.workspaces = s.workspaces;
  $('session').textContent = `${s.key} · workspaces ${s.workspaces.join(', ')}`;
  $('login').hidden = true;
  $('nav').hidden = false;
  $('logout').hidden = false;
  route();
}

function route() {
  if (!session.credentials || !$('login').hidden) return;
  const [path, query] = location.hash.replace(/^#\/?/, '').split('?');
  const view = VIEWS.includes(path) ? path : 'activity';
  for (const v of VIEWS) $(`view-${v}`).hidden = v !== view;
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.view === view);
  if (view !== 'live') closeLiveStream();
  if (view !== 'audiences') closeAudiences();
  if (view === 'live') void openLiveStream().catch((e) => { $('live-error').textContent = e.message; });
  if (view === 'audiences') openAudiences();
  if (view === 'calculated') void openCalculatedAttributes();
  if (view === 'activity') {
    const mpid = new URLSearchParams(query ?? '').get('mpid');
    if (mpid) openMpid(mpid);
  }
}

$('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  session.credentials = btoa(`${$('api-key').value}:${$('api-secret').value}`);
  try {
    await showSession();
    sessionStorage.setItem('ps-credentials', session.credentials);
    $('login-error').textContent = '';
  } catch (error) {
    $('login-error').textContent = error.status === 401 ? 'Unknown API key or wrong secret.' : error.message;
  }
});

$('logout').addEventListener('click', () => {
  sessionStorage.removeItem('ps-credentials');
  location.hash = '';
  location.reload();
});

window.addEventListener('hashchange', route);
initActivityView();
if (session.credentials) showSession().catch(() => sessionStorage.removeItem('ps-credentials'));
