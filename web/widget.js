/*
 * widget.js - the one-line cxsearch box for any page (a wiki, an intranet):
 *
 *   <div id="cx-search"></div>
 *   <script src="http://HOST:PORT/widget.js" data-target="#cx-search"></script>
 *
 * renders a search box with a dropdown of results inside the target.
 *
 * Facts that shaped it:
 * - It runs on someone else's page, so it is served as one self-contained
 *   file (cxsearchd pastes in web/highlight.js, the highlighter it shares
 *   with the search page, see below), adds no globals, and keeps its
 *   markup and styles in a shadow root: the wiki's CSS cannot restyle it
 *   and its CSS cannot leak out (a wrapper resets the inherited properties
 *   with `all: initial`). The shadow root is open so tests and curious
 *   users can look inside.
 * - The daemon to ask is the one that served this file: the base URL is
 *   taken from document.currentScript.src (read at load time; it is null
 *   later), keeping its path, so a daemon behind a proxy sub-path works.
 *   The page's origin must be in the daemon's CORS allow-list. Requests
 *   are plain GETs without custom headers, so no preflight is needed
 *   (unless data-read-key adds an Authorization header).
 * - Snippets and titles arrive HTML-escaped with <mark> around matches;
 *   highlight.js turns them into text nodes and <mark> elements only,
 *   never assigned to innerHTML (posts quote <script> and onerror= on
 *   purpose). Links are kept only for http(s) URLs.
 * - The script may come before its target in the page: then it waits for
 *   DOMContentLoaded. Without data-target it puts the box right after
 *   itself.
 *
 * Options, as attributes of the <script> tag (all optional):
 *   data-target          CSS selector of the element to fill
 *   data-limit           results in the dropdown, 1..20 (default 8)
 *   data-ui-lang         interface language: ru, it or en (default: the
 *                        browser's language)
 *   data-placeholder     placeholder text of the box
 *   data-channel, data-lang, data-tag
 *                        search only these (comma-separated, OR-ed)
 *   data-more            "off" hides the link to the full results page
 *   data-theme           light (default), dark or auto
 *   data-read-key        sent as Authorization: Bearer when the daemon
 *                        guards searches with a read key (it is public on
 *                        the page: use a key that can only read)
 */
(function () {
    'use strict';

    var script = document.currentScript || findScript();
    if (!script || !script.src) return;

    function findScript() {
        var all = document.querySelectorAll('script[src*="widget.js"]');
        return all.length ? all[all.length - 1] : null;
    }

    var BASE = new URL('./', script.src);
    var DEBOUNCE_MS = 200;

    var STRINGS = {
        en: { placeholder: 'Search CX posts…', label: 'Search',
              none: 'Nothing found', offline: 'Search is not available',
              more: 'All results', results: 'Results' },
        ru: { placeholder: 'Поиск по постам о CX…', label: 'Поиск',
              none: 'Ничего не найдено', offline: 'Поиск недоступен',
              more: 'Все результаты', results: 'Результаты' },
        it: { placeholder: 'Cerca nei post sulla CX…', label: 'Cerca',
              none: 'Nessun risultato', offline: 'Ricerca non disponibile',
              more: 'Tutti i risultati', results: 'Risultati' }
    };

    var CSS = [
        ':host{display:block;position:relative}',
        '*{box-sizing:border-box}',
        /* all:initial on the wrapper cuts what the host element inherits
         * from the page (a page rule on the host itself beats :host). */
        '.cxw{all:initial;display:block;position:relative;text-align:left;',
        'font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;',
        '--bg:#fff;--fg:#1d2330;--muted:#5d6677;--line:#d5dae2;',
        '--accent:#1f5fbf;--active:#e8f0fc;--mark:#fff1a8;color:var(--fg)}',
        '.cxw.dark{--bg:#1b1f26;--fg:#e4e7ec;--muted:#9aa3b2;--line:#343b46;',
        '--accent:#7fb0ff;--active:#243247;--mark:#5c4d00}',
        '@media (prefers-color-scheme:dark){.cxw.auto{--bg:#1b1f26;',
        '--fg:#e4e7ec;--muted:#9aa3b2;--line:#343b46;--accent:#7fb0ff;',
        '--active:#243247;--mark:#5c4d00}}',
        'input{width:100%;padding:.55em .8em;font:inherit;color:var(--fg);',
        'background:var(--bg);border:1px solid var(--line);border-radius:6px;',
        'margin:0;-webkit-appearance:none;appearance:none}',
        'input:focus{outline:2px solid var(--accent);outline-offset:0}',
        '.drop{position:absolute;left:0;right:0;top:calc(100% + 4px);',
        'z-index:2147483000;max-height:min(70vh,32em);overflow:auto;',
        'background:var(--bg);border:1px solid var(--line);border-radius:6px;',
        'box-shadow:0 6px 24px rgba(0,0,0,.16)}',
        '.drop[hidden]{display:none}',
        'ul{list-style:none;margin:0;padding:4px 0}',
        'li{padding:.5em .8em;cursor:pointer;border-left:3px solid transparent}',
        'li.active,li:hover{background:var(--active);',
        'border-left-color:var(--accent)}',
        '.t{display:block;font-weight:600;color:var(--accent);',
        'text-decoration:none;overflow-wrap:anywhere}',
        '.s{margin:.15em 0;font-size:.92em;overflow-wrap:anywhere}',
        '.m{font-size:.8em;color:var(--muted)}',
        'mark{background:var(--mark);color:inherit;padding:0 .1em;',
        'border-radius:2px}',
        '.status{padding:.5em .8em;color:var(--muted);font-size:.9em}',
        '.status:empty{display:none}',
        '.more{display:block;padding:.5em .8em;border-top:1px solid var(--line);',
        'color:var(--accent);text-decoration:none;font-size:.9em}',
        '.more[hidden]{display:none}',
        '.vh{position:absolute;width:1px;height:1px;overflow:hidden;',
        'clip:rect(0 0 0 0);white-space:nowrap}'
    ].join('');

    /* ---- helpers ---- */

    function pickLanguage(wanted) {
        var langs = wanted ? [wanted] : (navigator.languages &&
            navigator.languages.length ? navigator.languages
            : [navigator.language]);
        for (var i = 0; i < langs.length; i++) {
            var code = String(langs[i] || '').slice(0, 2).toLowerCase();
            if (STRINGS[code]) return code;
        }
        return 'en';
    }

    /* highlight.js, shared with the search page: the one place server
     * HTML reaches the DOM. cxsearchd puts the file in place of the next
     * line when it serves /widget.js, inside this closure (so its
     * cxsHighlight is no global); served another way, this file alone
     * would lack it. */
    /* @include highlight.js */

    var renderMarked = cxsHighlight.renderMarked;

    function el(tag, cls, text) {
        var e = document.createElement(tag);
        if (cls) e.className = cls;
        if (text !== undefined && text !== null) e.textContent = String(text);
        return e;
    }

    function list(attr) {
        var v = script.getAttribute(attr);
        return v ? v.split(',').map(function (s) { return s.trim(); })
            .filter(Boolean) : [];
    }

    /* ---- options from the script tag ---- */

    var opts = {
        target: script.getAttribute('data-target'),
        limit: Math.min(20, Math.max(1,
            parseInt(script.getAttribute('data-limit'), 10) || 8)),
        ui: pickLanguage(script.getAttribute('data-ui-lang')),
        placeholder: script.getAttribute('data-placeholder'),
        channel: list('data-channel'),
        lang: list('data-lang'),
        tag: list('data-tag'),
        more: script.getAttribute('data-more') !== 'off',
        theme: /^(dark|auto)$/.test(script.getAttribute('data-theme') || '')
            ? script.getAttribute('data-theme') : 'light',
        key: script.getAttribute('data-read-key')
    };
    var T = STRINGS[opts.ui];

    /* ---- one widget ---- */

    function mount(host) {
        if (host.shadowRoot) return; /* included twice: keep the first */
        var root = host.attachShadow({ mode: 'open' });
        addStyles(root);
        var w = build(root);
        wire(host, w);
    }

    function addStyles(root) {
        /* Constructed sheets are not blocked by a host page's CSP for
         * inline styles; fall back to <style> where unsupported. */
        try {
            var sheet = new CSSStyleSheet();
            sheet.replaceSync(CSS);
            root.adoptedStyleSheets = [sheet];
        } catch (e) {
            root.appendChild(el('style', null, CSS));
        }
    }

    function build(root) {
        var box = el('div', 'cxw ' + opts.theme);
        box.setAttribute('part', 'box');
        var label = el('label', 'vh', T.label);
        label.htmlFor = 'cxw-q';
        var input = el('input');
        input.id = 'cxw-q';
        input.type = 'search';
        input.autocomplete = 'off';
        input.spellcheck = false;
        input.placeholder = opts.placeholder || T.placeholder;
        input.setAttribute('part', 'input');
        input.setAttribute('role', 'combobox');
        input.setAttribute('aria-autocomplete', 'list');
        input.setAttribute('aria-expanded', 'false');
        input.setAttribute('aria-controls', 'cxw-list');
        var drop = el('div', 'drop');
        drop.hidden = true;
        drop.setAttribute('part', 'dropdown');
        var status = el('div', 'status');
        status.setAttribute('role', 'status');
        var ul = el('ul');
        ul.id = 'cxw-list';
        ul.setAttribute('role', 'listbox');
        ul.setAttribute('aria-label', T.results);
        var more = el('a', 'more', T.more + ' →');
        more.target = '_blank';
        more.rel = 'noopener';
        more.hidden = true;
        drop.appendChild(status);
        drop.appendChild(ul);
        drop.appendChild(more);
        box.appendChild(label);
        box.appendChild(input);
        box.appendChild(drop);
        root.appendChild(box);
        return { input: input, drop: drop, status: status, ul: ul, more: more,
                 active: -1, seq: 0, timer: null, ctrl: null, q: '' };
    }

    function wire(host, w) {
        w.input.addEventListener('input', function () {
            clearTimeout(w.timer);
            w.timer = setTimeout(function () { run(w); }, DEBOUNCE_MS);
        });
        w.input.addEventListener('keydown', function (ev) { onKey(w, ev); });
        w.input.addEventListener('focus', function () {
            if (w.ul.children.length || w.status.textContent) open(w, true);
        });
        document.addEventListener('click', function (ev) {
            var path = ev.composedPath ? ev.composedPath() : [];
            if (path.indexOf(host) < 0) open(w, false);
        });
    }

    function open(w, yes) {
        w.drop.hidden = !yes;
        w.input.setAttribute('aria-expanded', yes ? 'true' : 'false');
        if (!yes) setActive(w, -1);
    }

    /* ---- searching ---- */

    function params(q) {
        var p = new URLSearchParams();
        p.set('q', q);
        p.set('limit', String(opts.limit));
        p.set('snippet_words', '20');
        /* The widget searches as the user types: the last word is a
         * prefix too (and typos, layouts are forgiven by the server). */
        p.set('typing', '1');
        opts.channel.forEach(function (v) { p.append('channel', v); });
        opts.lang.forEach(function (v) { p.append('lang', v); });
        opts.tag.forEach(function (v) { p.append('tag', v); });
        return p;
    }

    function run(w) {
        var q = w.input.value.trim();
        w.q = q;
        var mine = ++w.seq;
        if (w.ctrl) w.ctrl.abort();
        if (!q) {
            w.ul.textContent = '';
            w.status.textContent = '';
            open(w, false);
            return;
        }
        w.ctrl = typeof AbortController === 'function'
            ? new AbortController() : null;
        var headers = { Accept: 'application/json' };
        if (opts.key) headers.Authorization = 'Bearer ' + opts.key;
        fetch(new URL('search?' + params(q).toString(), BASE).href, {
            headers: headers, mode: 'cors', credentials: 'omit',
            signal: w.ctrl ? w.ctrl.signal : undefined
        }).then(function (r) {
            if (!r.ok) throw new Error(String(r.status));
            return r.json();
        }).then(function (res) {
            if (mine === w.seq) show(w, res || {});
        }, function (err) {
            if (mine !== w.seq || (err && err.name === 'AbortError')) return;
            w.ul.textContent = '';
            w.status.textContent = T.offline;
            w.more.hidden = true;
            open(w, true);
        });
    }

    function show(w, res) {
        var hits = Array.isArray(res.hits) ? res.hits : [];
        w.ul.textContent = '';
        w.status.textContent = hits.length ? '' : T.none;
        hits.forEach(function (h, i) { w.ul.appendChild(option(w, h, i)); });
        var page = new URL('./', BASE);
        page.search = new URLSearchParams({ q: w.q }).toString();
        w.more.href = page.href;
        w.more.hidden = !opts.more || !hits.length;
        setActive(w, -1);
        open(w, true);
    }

    function option(w, h, i) {
        var li = el('li');
        li.id = 'cxw-opt-' + i;
        li.setAttribute('role', 'option');
        li.setAttribute('aria-selected', 'false');
        li.setAttribute('data-id', String(h.id || ''));
        var t = cxsHighlight.hitTitle(h, 't', BASE);
        var href = t.tagName === 'A' ? t.href : null;
        if (href) t.tabIndex = -1;
        var s = el('div', 's');
        renderMarked(s, h.snippet);
        var m = el('div', 'm', [h.channel, String(h.date || '').slice(0, 10)]
            .filter(Boolean).join(' · '));
        li.appendChild(t);
        li.appendChild(s);
        li.appendChild(m);
        li.addEventListener('mousemove', function () { setActive(w, i); });
        li.addEventListener('click', function (ev) {
            if (ev.target.closest && ev.target.closest('a')) return;
            go(href);
        });
        return li;
    }

    function go(href) {
        if (href) window.open(href, '_blank', 'noopener');
    }

    /* ---- keyboard ---- */

    function setActive(w, i) {
        var items = w.ul.children;
        if (w.active >= 0 && items[w.active]) {
            items[w.active].classList.remove('active');
            items[w.active].setAttribute('aria-selected', 'false');
        }
        w.active = i >= 0 && i < items.length ? i : -1;
        if (w.active < 0) {
            w.input.removeAttribute('aria-activedescendant');
            return;
        }
        var li = items[w.active];
        li.classList.add('active');
        li.setAttribute('aria-selected', 'true');
        w.input.setAttribute('aria-activedescendant', li.id);
        if (li.scrollIntoView) li.scrollIntoView({ block: 'nearest' });
    }

    function onKey(w, ev) {
        var n = w.ul.children.length;
        if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
            if (!n) return;
            ev.preventDefault();
            open(w, true);
            /* Positions -1 (the box) .. n-1 form a ring. */
            var d = ev.key === 'ArrowDown' ? 1 : -1;
            setActive(w, ((w.active + 1 + d) % (n + 1) + n + 1) % (n + 1) - 1);
        } else if (ev.key === 'Enter') {
            ev.preventDefault();
            clearTimeout(w.timer);
            if (w.active >= 0) {
                var a = w.ul.children[w.active].querySelector('a');
                go(a ? a.href : null);
            } else if (w.input.value.trim() !== w.q || !n) {
                run(w);
            } else if (opts.more) {
                go(w.more.href);
            }
        } else if (ev.key === 'Escape') {
            if (!w.drop.hidden) {
                open(w, false);
            } else {
                w.input.value = '';
                run(w);
            }
        }
    }

    /* ---- start ---- */

    /* null also for an invalid selector, which querySelector throws on. */
    function query(sel) {
        try {
            return document.querySelector(sel);
        } catch (e) {
            return null;
        }
    }

    function targetElement() {
        if (opts.target) return query(opts.target);
        var div = el('div');
        script.parentNode.insertBefore(div, script.nextSibling);
        return div;
    }

    function start() {
        var host = targetElement();
        if (!host) {
            if (window.console) {
                console.warn('cxsearch widget: no element matches ' +
                    JSON.stringify(opts.target));
            }
            return;
        }
        mount(host);
    }

    if (opts.target && !query(opts.target) &&
        document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', start);
    } else {
        start();
    }
})();
