// Page strings: one JSON file per language in i18n/ (the "fields" part is
// shared with `sealtip open`, the "ui" part is the page's), listed in
// i18n/languages.json, which web/build.sh makes from the files there.

export async function loadLanguages() {
  return fetchJson('i18n/languages.json');
}

// signal: an AbortSignal that gives the request up (a stalled line).
export async function loadStrings(lang, signal = null) {
  return fetchJson(`i18n/${lang}.json`, signal);
}

async function fetchJson(url, signal = null) {
  const response = await fetch(url, { credentials: 'omit', signal });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

// The first of the browser's preferred languages (its Accept-Language) that
// we have, matching "km-KH" to "km"; else the first language listed.
export function chooseLanguage(languages, preferred = navigator.languages || [navigator.language]) {
  const codes = languages.map((language) => language.lang);
  for (const tag of preferred) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (codes.includes(base)) return base;
  }
  return codes.includes('en') ? 'en' : codes[0];
}

function lookup(strings, key) {
  return key.split('.').reduce((node, part) => (node == null ? undefined : node[part]), strings);
}

export function hasString(strings, key) {
  return typeof lookup(strings, key) === 'string';
}

// Looks up "ui.send" or "fields.what.label" and fills {placeholders}; a
// missing string shows its key, which the tests catch.
export function translate(strings, key, values = {}) {
  const text = lookup(strings, key);
  if (typeof text !== 'string') return key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

function lookupList(strings, key) {
  const list = lookup(strings, key);
  return Array.isArray(list) ? list : [key];
}

// Sets every [data-text] element's text and every [data-list] list's items
// under root; called again on a language switch, so typed values stay put.
export function applyStrings(root, strings) {
  document.documentElement.lang = strings.lang;
  document.documentElement.dir = strings.dir || 'ltr';
  document.title = translate(strings, 'ui.title');
  for (const element of root.querySelectorAll('[data-text]')) {
    // data-optional: a hint that only some fields have, in some languages.
    const missing = typeof lookup(strings, element.dataset.text) !== 'string';
    if (element.hasAttribute('data-optional')) element.hidden = missing;
    element.textContent = missing && element.hasAttribute('data-optional') ? '' : translate(strings, element.dataset.text);
  }
  for (const list of root.querySelectorAll('[data-list]')) {
    list.replaceChildren(...lookupList(strings, list.dataset.list).map((item) => {
      const li = document.createElement('li');
      li.textContent = item;
      return li;
    }));
  }
}
