// run.mjs - drives headless Chromium (Debian's /usr/bin/chromium through
// playwright-core) against a live cxsearchd. Started by
// tests/e2e/test_browser.py, which runs the daemon and passes:
//   CXS_URL      the daemon, e.g. http://127.0.0.1:43121
//   PAGES_PORT   a free loopback port for the test pages: another origin,
//                which the daemon's cors_origins allows
//   ARTIFACTS    folder for screenshots
//   CHROMIUM     the browser binary (default /usr/bin/chromium)
//
// Facts that shaped it:
// - Pages of another origin are served here by a tiny static server: the
//   test pages (pages/*.html, with {{CXS}} replaced by the daemon's URL)
//   and, under /vendor/, the unmodified dist files of the npm packages.
// - Every page is checked for the post that quotes <script> and
//   <img onerror>: it must show as text, create no element, and open no
//   dialog (alert(1) would).
// - The search page and the widget share one highlighter, web/highlight.js
//   (the daemon pastes it into /widget.js). Both are also fed answers more
//   hostile than the daemon ever sends (unescaped tags, <mark> with
//   attributes, nested marks, javascript: URLs), through a route that
//   stands in for GET /search, and the served files are checked to carry
//   that one highlighter and no other.
// - Only loopback requests are let through (docs-searchbar's footer loads a
//   logo from the internet), so a run never waits on the network.
// Prints "N passed, M failed" and exits 1 on any failure.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CXS = process.env.CXS_URL;
const PAGES_PORT = Number(process.env.PAGES_PORT);
const PAGES = `http://127.0.0.1:${PAGES_PORT}`;
const ART = process.env.ARTIFACTS || path.join(HERE, 'artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = 15000;
const XSS_TEXT = '<script>alert(1)</script>';

const VENDOR = {
  'instantsearch.production.min.js':
    'instantsearch.js/dist/instantsearch.production.min.js',
  'instant-meilisearch.umd.min.js':
    '@meilisearch/instant-meilisearch/dist/instant-meilisearch.umd.min.js',
  'satellite-min.css': 'instantsearch.css/themes/satellite-min.css',
  'docs-searchbar.min.js': 'docs-searchbar.js/dist/cdn/docs-searchbar.min.js',
  'docs-searchbar.min.css': 'docs-searchbar.js/dist/cdn/docs-searchbar.min.css',
};

let current = null; // the page of the running scenario, for failures
let passed = 0;
let failed = 0;
function check(cond, what) {
  if (cond) passed++;
  else {
    failed++;
    console.log('FAIL: ' + what);
  }
  return cond;
}

// ---- the other origin ----

function serve(req, res) {
  const url = new URL(req.url, PAGES);
  let file = null;
  let type = 'text/html; charset=utf-8';
  if (url.pathname.startsWith('/vendor/')) {
    const rel = VENDOR[url.pathname.slice(8)];
    if (rel) file = path.join(HERE, 'node_modules', rel);
    type = url.pathname.endsWith('.css') ? 'text/css' : 'text/javascript';
  } else if (/^\/[a-z-]+\.html$/.test(url.pathname)) {
    file = path.join(HERE, 'pages', url.pathname.slice(1));
  }
  if (!file || !fs.existsSync(file)) {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found');
    return;
  }
  let body = fs.readFileSync(file);
  if (type.startsWith('text/html'))
    body = body.toString('utf8').replaceAll('{{CXS}}', CXS);
  res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(body);
}

// ---- helpers ----

async function newPage(browser, locale) {
  const context = await browser.newContext({
    locale,
    viewport: { width: 1100, height: 900 },
  });
  await context.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    return host === '127.0.0.1' || host === 'localhost'
      ? route.continue()
      : route.abort();
  });
  const page = await context.newPage();
  current = page;
  page.setDefaultTimeout(TIMEOUT);
  page.dialogs = 0;
  page.errors = [];
  page.on('dialog', (d) => {
    page.dialogs++;
    d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => page.errors.push(String(e)));
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(ART, name + '.png'), fullPage: false });
}

// Elements the quoted payload would create if it were ever parsed as HTML,
// counted in the document and in every open shadow root.
async function injected(page) {
  return page.evaluate(() => {
    let n = 0;
    const scan = (root) => {
      n += root.querySelectorAll('img[src="x"], img[onerror]').length;
      root.querySelectorAll('script').forEach((s) => {
        if ((s.textContent || '').includes('alert(1)')) n++;
      });
      root.querySelectorAll('*').forEach((e) => e.shadowRoot && scan(e.shadowRoot));
    };
    scan(document);
    return n;
  });
}

async function typeQuery(locator, text) {
  await locator.click();
  await locator.fill('');
  await locator.pressSequentially(text, { delay: 25 });
}

// Text shown for highlights must never carry the markup or markers.
function cleanText(t) {
  return !/__\/?ais-highlight__|&lt;|&gt;|&amp;|<\/?em>|<\/?mark>/.test(t);
}

async function checkXss(page, label, textLocator) {
  await textLocator.first().waitFor();
  const text = (await textLocator.allTextContents()).join('\n');
  check(text.includes(XSS_TEXT), `${label}: the quoted <script> shows as text`);
  check(!text.includes('&lt;'), `${label}: the quoted markup is not double-escaped`);
  check((await injected(page)) === 0, `${label}: no element created from the post`);
  check(page.dialogs === 0, `${label}: no dialog opened`);
}

// ---- the shared highlighter, fed hostile answers ----

// What a server that forgot to escape could send. "expect" lists texts the
// hit's title and snippet must show verbatim, "marks" its <mark> texts.
const HOSTILE = [
  { id: 'h1', url: 'javascript:alert(1)', channel: 'hostile',
    title: '<img src=x onerror=alert(1)>T1',
    snippet: '<script>alert(1)</script> <mark onclick="alert(1)">m</mark> ' +
      '<svg onload=alert(1)> <iframe src="javascript:alert(1)"></iframe>',
    expect: ['<img src=x onerror=alert(1)>T1', '<script>alert(1)</script>',
             '<mark onclick="alert(1)">m', '<svg onload=alert(1)>'],
    marks: [] },
  { id: 'h2', url: 'https://example.org/post', channel: 'hostile',
    title: '<mark>ok</mark> &lt;b&gt;bold&lt;/b&gt;',
    snippet: '<MARK><mark>nested</mark></MARK> &#60;img src=x ' +
      'onerror=alert(1)&#62; &#x3C;b&#x3E; &#xD800; &bogus; &amp;lt;',
    expect: ['ok <b>bold</b>', 'nested <img src=x onerror=alert(1)> <b> ' +
             '&#xD800; &bogus; &lt;'],
    marks: ['ok', 'nested'] },
  { id: 'h3', url: ' data:text/html,<script>alert(1)</script>',
    channel: 'hostile', title: '', snippet: '</mark>stray<mark>end',
    expect: ['h3', 'strayend'], marks: ['end'] },
];

// Stands in for the daemon's GET /search on this page.
async function hostileSearch(page) {
  await page.route((u) => u.pathname === '/search', (route) =>
    route.fulfill({
      status: 200,
      contentType: 'application/json',
      headers: { 'Access-Control-Allow-Origin': '*' },
      body: JSON.stringify({ query: 'hostile', total: HOSTILE.length,
                             hits: HOSTILE }),
    }));
}

// items: the rendered hits in HOSTILE's order; title: their title element.
async function checkHostile(page, label, items, title) {
  check((await items.count()) === HOSTILE.length,
        `${label}: every hostile hit is listed`);
  for (let i = 0; i < HOSTILE.length; i++) {
    const h = HOSTILE[i];
    const item = items.nth(i);
    const found = await item.evaluate((li, sel) => {
      const t = li.querySelector(sel);
      const bad = [...li.querySelectorAll('*')].filter((e) =>
        /^(img|svg|iframe|script|b)$/i.test(e.tagName) ||
        [...e.attributes].some((a) => /^on/i.test(a.name)) ||
        (e.tagName === 'MARK' &&
         (e.attributes.length || e.parentElement.closest('mark'))));
      return {
        text: li.textContent,
        marks: [...li.querySelectorAll('mark')].map((m) => m.textContent),
        bad: bad.map((e) => e.outerHTML.slice(0, 60)),
        tag: t && t.tagName, href: t && t.getAttribute('href'),
        rel: t && t.getAttribute('rel'),
      };
    }, title);
    const L = `${label}: hostile hit ${h.id}`;
    check(h.expect.every((x) => found.text.includes(x)),
          `${L} shows the markup as text: ${JSON.stringify(found.text)}`);
    check(JSON.stringify(found.marks) === JSON.stringify(h.marks),
          `${L} marks ${JSON.stringify(found.marks)}`);
    check(found.bad.length === 0, `${L} creates no other element or ` +
          `handler: ${found.bad.join(' ')}`);
    if (h.url.startsWith('https:'))
      check(found.tag === 'A' && found.href === h.url &&
            found.rel === 'noopener noreferrer', `${L} links ${found.href}`);
    else
      check(found.tag === 'SPAN' && found.href === null,
            `${L}: no link for ${h.url} (${found.tag} ${found.href})`);
  }
  check((await injected(page)) === 0, `${label}: hostile hits create no element`);
  check(page.dialogs === 0, `${label}: hostile hits open no dialog`);
}

// The files as the daemon serves them: one highlighter, used by both.
async function checkSharedSource() {
  const get = async (name) => {
    const r = await fetch(CXS + '/' + name);
    return r.ok ? r.text() : '';
  };
  const [hl, widget, app, index] = await Promise.all(
    ['highlight.js', 'widget.js', 'app.js', ''].map(get));
  const count = (s, w) => s.split(w).length - 1;
  check(hl.includes('function renderMarked'), 'GET /highlight.js: the highlighter');
  check(widget.includes(hl) && !/@include/.test(widget),
        'GET /widget.js carries highlight.js, assembled by the daemon');
  check(count(widget, 'function renderMarked') === 1 &&
        count(widget, 'function decodeEntities') === 1,
        'GET /widget.js: no highlighter besides highlight.js');
  check(!/function (renderMarked|decodeEntities|safeUrl)\b/.test(app),
        'GET /app.js: no highlighter of its own');
  check(/src="highlight\.js"[^]*src="app\.js"/.test(index),
        'GET /: loads highlight.js before app.js');
}

// ---- (a) the search page ----

async function searchPage(browser) {
  const page = await newPage(browser, 'ru-RU');
  let last = null;
  let typedWithTyping = false;
  page.on('response', async (r) => {
    const u = new URL(r.url());
    if (u.pathname === '/search' && r.status() === 200) {
      last = await r.json().catch(() => null);
      if (u.searchParams.get('q') === 'клиентский опыт')
        typedWithTyping ||= u.searchParams.get('typing') === '1';
    }
  });
  await page.goto(CXS + '/');
  const q = 'клиентский опыт';
  await typeQuery(page.locator('#cx-q'), q);
  await page.locator('#cx-results mark').first().waitFor();
  await page.waitForFunction(() => document.querySelectorAll('#cx-results li').length > 0);
  await page.waitForTimeout(300); // let the last debounced answer land
  const marks = await page.locator('#cx-results mark').allTextContents();
  check(marks.length > 0, 'search page: highlighted results');
  check(marks.some((m) => /клиентск|опыт/i.test(m)), 'search page: the query words are marked');
  check(new URL(page.url()).searchParams.get('q') === q, 'search page: the query is in the URL');
  const before = last ? last.total : 0;
  check(before > 1, `search page: several results for "${q}" (${before})`);
  await shot(page, 'a-search-page-ru');

  const facet = page.locator('button.cx-facet-value[data-facet="channel"]').first();
  const channel = await facet.getAttribute('data-value');
  await facet.click();
  await page.waitForFunction(
    (c) => [...document.querySelectorAll('#cx-results .cx-channel')].every((e) => e.textContent === c),
    channel
  );
  await page.waitForTimeout(300);
  check(last && last.total < before, `search page: the facet ${channel} narrows ${before} to ${last && last.total}`);
  const shown = await page.locator('#cx-results li.cx-hit').count();
  check(shown > 0 && shown <= (last ? last.total : 0), 'search page: the list shows the narrowed results');
  await shot(page, 'a-search-page-facet');

  // Forgiving search (issue 14): a typed query goes out with typing=1; a
  // query in the wrong keyboard layout is read in the right one and the
  // page says so, with a link to the query as typed (exact=1).
  check(typedWithTyping, 'search page: queries typed in the box carry typing=1');
  await page.goto(CXS + '/?q=rfcnjvbpfwbz');
  const rw = page.locator('#cx-rewrites');
  await rw.waitFor();
  const said = await rw.textContent();
  check(/кастомизация/.test(said) && /rfcnjvbpfwbz/.test(said),
    `search page: "Showing results for кастомизация · search instead for rfcnjvbpfwbz" (${said})`);
  check(await page.locator('#cx-results li.cx-hit').count() > 0, 'search page: the rewritten query finds posts');
  await shot(page, 'a-search-page-rewrites');
  await page.locator('#cx-exact-link').click();
  await page.waitForFunction(() => document.querySelector('#cx-rewrites').hidden &&
    new URLSearchParams(location.search).get('exact') === '1');
  await page.waitForTimeout(300);
  check(last && last.total === 0 && (last.rewrites || []).length === 0,
    'search page: "search instead for" asks exact=1 and finds the query as typed');

  await page.goto(CXS + '/?q=alert');
  await checkXss(page, 'search page', page.locator('#cx-results li'));
  await shot(page, 'e-search-page-xss');

  await hostileSearch(page);
  await page.goto(CXS + '/?q=hostile');
  await page.locator('#cx-results li[data-id="h3"]').waitFor();
  check(await page.evaluate(() => typeof window.cxsHighlight === 'object'),
        'search page: highlight.js is loaded');
  await checkHostile(page, 'search page', page.locator('#cx-results li.cx-hit'),
                     '.cx-title');
  await shot(page, 'e-search-page-hostile');
  check(page.errors.length === 0, 'search page: no script errors ' + page.errors.join('; '));
  await page.context().close();
}

// ---- (b) the widget on a wiki page of another origin ----

async function wikiPage(browser) {
  const page = await newPage(browser, 'it-IT');
  await page.goto(PAGES + '/wiki.html');
  const input = page.locator('#cx-search #cxw-q');
  await typeQuery(input, 'qualità');
  const items = page.locator('#cx-search #cxw-list li');
  await items.first().waitFor();
  await page.locator('#cx-search #cxw-list mark').first().waitFor();
  const text = (await items.allTextContents()).join('\n');
  check((await items.count()) > 0, 'widget: results for an Italian query');
  check(/qualit/i.test(text), 'widget: the results mention the query');
  check(cleanText(text), 'widget: highlights are elements, not text');
  const size = await input.evaluate((e) => getComputedStyle(e).fontSize);
  check(size !== '32px', `widget: the wiki's CSS does not reach the box (${size})`);
  await shot(page, 'b-wiki-widget-it');

  await typeQuery(input, 'alert');
  await page.waitForFunction(() => {
    const root = document.querySelector('#cx-search').shadowRoot;
    return root && root.textContent.includes('<script>alert(1)</script>');
  });
  await checkXss(page, 'widget', page.locator('#cx-search #cxw-list li'));
  await shot(page, 'e-wiki-widget-xss');

  // No globals: the wiki's window has the same own properties as a page
  // of the same origin without the widget (highlight.js's cxsHighlight is
  // inside the widget's closure).
  const props = () => page.evaluate(() => Object.getOwnPropertyNames(window));
  const withWidget = await props();
  await hostileSearch(page);
  await page.goto(PAGES + '/no-widget');
  const without = new Set(await props());
  const leaked = withWidget.filter((p) => !without.has(p));
  check(leaked.length === 0, 'widget: adds no globals ' + leaked.join(' '));

  await page.goto(PAGES + '/wiki.html');
  await typeQuery(input, 'hostile');
  await page.locator('#cx-search #cxw-list li[data-id="h3"]').waitFor();
  await checkHostile(page, 'widget', page.locator('#cx-search #cxw-list li'), '.t');
  await shot(page, 'e-wiki-widget-hostile');
  check(page.errors.length === 0, 'widget: no script errors ' + page.errors.join('; '));
  await page.context().close();
}

// ---- (c) InstantSearch + instant-meilisearch ----

async function instantSearchPage(browser, file, tag) {
  const L = 'InstantSearch ' + file;
  const page = await newPage(browser, 'en-US');
  await page.goto(PAGES + '/' + file);
  await page.locator('.ais-Hits-item').first().waitFor();
  const input = page.locator('#searchbox .ais-SearchBox-input');
  await typeQuery(input, 'NPS');
  await page.waitForFunction(() =>
    document.querySelectorAll('#hits mark').length > 0 &&
    document.querySelector('#stats').textContent.match(/\d/));
  await page.waitForTimeout(400);
  const hitsText = (await page.locator('.ais-Hits-item').allTextContents()).join('\n');
  const marks = await page.locator('#hits mark').allTextContents();
  check(marks.some((m) => /nps/i.test(m)), L + ': the query is highlighted as <mark>');
  check(cleanText(hitsText), L + ': no escaped tags or raw markers in the text');
  const stats = await page.locator('#stats').textContent();
  await shot(page, 'c-instantsearch' + tag);

  const langs = page.locator('#lang .ais-RefinementList-item');
  check((await langs.count()) >= 2, L + ': the lang facet lists languages');
  await page.locator('#lang .ais-RefinementList-checkbox').first().check();
  await page.waitForFunction((s) => document.querySelector('#stats').textContent !== s, stats);
  const after = await page.locator('#stats').textContent();
  const num = (s) => Number((s.match(/([\d,]+) result/) || [0, '0'])[1].replace(/,/g, ''));
  check(num(after) > 0 && num(after) < num(stats), `${L}: a facet narrows the results (${stats} -> ${after})`);

  // A searchable facet list asks POST /indexes/posts/facet-search, within
  // the current query and filters (NPS in Russian: two channels).
  const facetSearch = page.waitForResponse((r) =>
    r.url().endsWith('/indexes/posts/facet-search') && r.status() === 200);
  await page.locator('#channel .ais-SearchBox-input').fill('klient');
  await facetSearch;
  await page.waitForFunction(() =>
    [...document.querySelectorAll('#channel .ais-RefinementList-labelText')]
      .map((e) => e.textContent).join(',') === 'klientskiy_put');
  check(true, L + ': the searchable facet list finds a channel');
  await page.locator('#channel .ais-SearchBox-input').fill('');

  await page.locator('#lang .ais-RefinementList-checkbox').first().uncheck();
  // sortBy "posts:date:desc" asks sort: ["date:desc"]
  await page.locator('#sort select').selectOption('posts:date:desc');
  await page.waitForResponse((r) => r.url().endsWith('/multi-search'));
  await page.waitForTimeout(300);
  const dates = (await page.locator('#hits .meta').allTextContents())
    .map((m) => (m.match(/\d{4}-\d\d-\d\d/) || [''])[0]);
  check(dates.length > 1 && dates.every((d, i) => i === 0 || d <= dates[i - 1]),
        L + ': sortBy newest first: ' + dates.join(' '));
  await page.locator('#sort select').selectOption('posts');
  await typeQuery(input, 'alert');
  await page.waitForFunction(() => document.querySelector('#hits').textContent.includes('alert(1)'));
  await checkXss(page, L, page.locator('.ais-Hits-item'));
  await shot(page, 'e-instantsearch-xss' + tag);
  check(page.errors.length === 0, L + ': no script errors ' + page.errors.join('; '));
  await page.context().close();
}

// ---- (d) docs-searchbar.js ----

async function docsSearchBarPage(browser, file, tag) {
  const L = 'docs-searchbar ' + file;
  const page = await newPage(browser, 'en-US');
  await page.goto(PAGES + '/' + file);
  const input = page.locator('#search-bar-input');
  await typeQuery(input, 'NPS');
  await page.locator('.dsb-suggestion').first().waitFor();
  await page.locator('.docs-searchbar-suggestion--highlight').first().waitFor();
  const text = (await page.locator('.dsb-suggestion').allTextContents()).join('\n');
  const hl = await page.locator('.docs-searchbar-suggestion--highlight').allTextContents();
  check(hl.some((m) => /nps/i.test(m)), L + ': the query is highlighted as an element');
  check(cleanText(text), L + ': no escaped tags in the text');
  await shot(page, 'd-docs-searchbar' + tag);

  await typeQuery(input, 'alert');
  await page.waitForFunction(() =>
    [...document.querySelectorAll('.dsb-suggestion')].some((e) => e.textContent.includes('alert(1)')));
  await checkXss(page, L, page.locator('.dsb-suggestion'));
  await shot(page, 'e-docs-searchbar-xss' + tag);
  check(page.errors.length === 0, L + ': no script errors ' + page.errors.join('; '));
  await page.context().close();
}

// ---- main ----

async function scenario(browser, name, fn) {
  const t0 = Date.now();
  try {
    await fn(browser);
  } catch (e) {
    check(false, `${name}: ${e.message.split('\n')[0]}`);
    console.log(e.stack.split('\n').filter((l) => l.includes('run.mjs')).join('\n'));
    if (current)
      await shot(current, 'failed-' + name.replace(/\W+/g, '-')).catch(() => {});
  }
  console.log(`${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

fs.mkdirSync(ART, { recursive: true });
const server = http.createServer(serve);
await new Promise((ok) => server.listen(PAGES_PORT, '127.0.0.1', ok));
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
         '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
try {
  await scenario(browser, 'shared highlighter', checkSharedSource);
  await scenario(browser, 'search page', searchPage);
  await scenario(browser, 'wiki widget', wikiPage);
  for (const [tag, prefix] of [['', ''], ['-docs-example', 'doc-']]) {
    await scenario(browser, 'InstantSearch' + tag,
                   (b) => instantSearchPage(b, prefix + 'instantsearch.html', tag));
    await scenario(browser, 'docs-searchbar' + tag,
                   (b) => docsSearchBarPage(b, prefix + 'docs-searchbar.html', tag));
  }
} finally {
  await browser.close();
  server.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
