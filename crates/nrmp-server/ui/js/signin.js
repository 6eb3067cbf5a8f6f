// Sign in: user name, password and — for roles that read personal data — the six-digit code
// from the authenticator app. The API answers every failure with the same 401 (it does not say
// which part was wrong), so neither does this screen.

import { api } from './api.js';
import { busy, field, h, showProblem, val } from './dom.js';

export function signInScreen(onSignedIn) {
  const form = h('form', { class: 'card narrow', novalidate: true },
    h('h1', {}, 'Sign in'),
    field('User name', 'username', { autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' }),
    field('Password', 'password', { input: 'password', autocomplete: 'current-password', required: true }),
    field('Second-factor code', 'totp', {
      inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: 6,
      hint: 'Six digits from your authenticator app: needed for every role that reads personal data (not for researchers or administrators).',
    }),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { username: val(form, 'username'), password: form.elements.namedItem('password').value };
    const code = val(form, 'totp');
    if (code) body.totp = code;
    try {
      const res = await busy(form, () => api('POST', '/api/v1/session', { body }));
      form.reset();
      onSignedIn(res.user);
    } catch (e) {
      if (e.status === 401) {
        e.title = 'Not signed in';
        e.message = 'The user name, password or code is not right, or the account is locked or disabled.';
      }
      showProblem(form, e);
    }
  });
  return form;
}
