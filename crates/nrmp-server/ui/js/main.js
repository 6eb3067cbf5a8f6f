// The application shell: who is signed in (kept in sessionStorage: the name, organisation and
// roles the sign-in answered with — never the session secret, which stays in the HttpOnly
// cookie), the navigation, and the hash router that shows one screen at a time.

import { api, forgetOrganisations, organisations, setUnauthenticatedHandler } from './api.js';
import { h, replace } from './dom.js';
import { ROLES, org } from './format.js';
import { signInScreen } from './signin.js';
import { checkScreen } from './check.js';
import { incidentScreen, incidentsScreen } from './incidents.js';
import { personScreen } from './person.js';
import { reportScreen } from './report.js';
import { statsScreen } from './stats.js';

const KEY = 'nrmp.user';

export function currentUser() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || 'null');
  } catch {
    return null;
  }
}

/** Records the signed-in user (the `user` of the sign-in answer) and opens their first screen. */
export function signedIn(user) {
  sessionStorage.setItem(KEY, JSON.stringify({
    username: user.username, org: user.org, roles: user.roles || [],
  }));
  const roles = user.roles || [];
  const first = roles.includes('researcher') && roles.length === 1 ? '#/stats' : '#/check';
  if (location.hash === first) route();
  else location.hash = first;
}

function signedOut(message) {
  sessionStorage.removeItem(KEY);
  forgetOrganisations();
  notice(message || '');
  if (location.hash !== '#/signin') location.hash = '#/signin';
  else route();
}

/** A short message at the top of the page (read out by screen readers). */
export function notice(text) {
  const n = document.getElementById('notice');
  n.textContent = text;
  n.hidden = !text;
}

function shell(user) {
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  nav.hidden = !user;
  who.hidden = !user;
  if (user) {
    const roles = user.roles.map((r) => ROLES[r] || r).join(', ');
    replace(document.getElementById('who-name'), h('strong', {}, user.username), ` · ${roles} · ${org(user.org)}`);
  }
}

const SCREENS = [
  [/^#\/check$/, () => checkScreen()],
  [/^#\/incidents$/, () => incidentsScreen()],
  [/^#\/incidents\/([0-9a-f-]{36})$/, (m) => incidentScreen(m[1])],
  [/^#\/persons\/([0-9a-f-]{36})$/, (m) => personScreen(m[1])],
  [/^#\/report(?:\?person=([0-9a-f-]{36}))?$/, (m) => reportScreen(m[1] || '')],
  [/^#\/stats$/, () => statsScreen()],
];

async function route() {
  const main = document.getElementById('main');
  if (currentUser()) {
    // Names for organisation codes (once per page load; the screens work without them). A 401
    // here signs the user out, so who is signed in is read again afterwards.
    await organisations().catch(() => {});
  }
  const user = currentUser();
  shell(user);
  const hash = location.hash || '#/check';
  if (!user || hash === '#/signin') {
    if (user) {
      location.hash = '#/check';
      return;
    }
    replace(main, signInScreen(signedIn));
    document.title = 'Sign in — nrmp';
    main.querySelector('input')?.focus();
    return;
  }
  for (const a of document.querySelectorAll('#nav a')) {
    if (hash.startsWith(a.getAttribute('href'))) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const hit = SCREENS.map(([re, f]) => [hash.match(re), f]).find(([m]) => m);
  if (!hit) {
    replace(main, h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/check' }, 'Go to the encounter check')));
    return;
  }
  const [m, make] = hit;
  const screen = make(m);
  replace(main, screen.el);
  document.title = `${screen.title} — nrmp`;
  main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
  if (screen.load) await screen.load();
}

document.getElementById('sign-out').addEventListener('click', async () => {
  try {
    await api('DELETE', '/api/v1/session');
  } catch {
    // the session may already have ended: signing out locally is what matters
  }
  signedOut('Signed out.');
});

setUnauthenticatedHandler(() => signedOut('Your session has ended: sign in again.'));
window.addEventListener('hashchange', () => {
  if (location.hash !== '#/signin') notice('');
  route();
});
route();
