/*
 * app.js - the search page behind index.html: search as you type, facets,
 * sorting, pagination, keyboard navigation, the query in the URL.
 *
 * Facts that shaped it:
 * - It talks to GET search?... on the same origin (relative URL, so a
 *   reverse proxy may mount the daemon under a sub-path). The response is
 *   {"query","total","took_ms","relaxed","suggestion","rewrites",
 *   "read_as","hits":[...],"facets":{"channel":{"name":count},...}}.
 * - The server forgives typos, the wrong keyboard layout and Russian in
 *   Latin letters, and reads the last word typed so far as a prefix
 *   (typing=1, sent while the user types, not when the query is submitted
 *   or opened from a link). When it rewrote the query ("rewrites",
 *   "read_as") the page says "Showing results for … · search instead for
 *   …", the second a link that asks for the query as typed (exact=1, kept
 *   in the page's URL).
 * - Snippets and titles arrive HTML-escaped with <mark>...</mark> around
 *   matches. They are NOT assigned to innerHTML: renderMarked() of
 *   highlight.js (shared with widget.js, loaded before this file) turns
 *   them into text nodes and <mark> elements only. Every other field is
 *   set as text. Links are kept only for http(s) (hitTitle, also there).
 * - total may be Xapian's estimate; the page says "about" unless it equals
 *   the hits seen.
 * - Responses can arrive out of order while typing: each request aborts the
 *   previous one and a sequence number drops stale answers.
 * - Sort values follow the API: relevance | date (oldest first) | -date
 *   (newest first). The year facet is a single choice sent as from=Y&to=Y.
 * - No framework and no build step (the daemon serves this file as it is).
 */
(function () {
    'use strict';

    var PAGE_SIZE = 10;
    var DEBOUNCE_MS = 220;
    var FACETS = ['channel', 'lang', 'tag', 'year'];
    var FACET_LIMIT = 12; /* values shown before "more" */

    /* ---- interface strings ---- */

    var STRINGS = {
        en: {
            title: 'cxsearch: search CX writing',
            label: 'Search posts',
            placeholder: 'Search CX posts…',
            sort: 'Sort',
            sortRelevance: 'Most relevant',
            sortNewest: 'Newest first',
            sortOldest: 'Oldest first',
            filters: 'Filters',
            clearFilters: 'Clear filters',
            results: 'Results',
            pages: 'Pages',
            facet_channel: 'Channel',
            facet_lang: 'Language',
            facet_tag: 'Tag',
            facet_year: 'Year',
            more: 'more…',
            less: 'less',
            count: function (a, b, n, exact) {
                return (exact ? '' : 'about ') + a + '–' + b + ' of ' + n;
            },
            took: function (ms) { return ms + ' ms'; },
            allPosts: 'All posts',
            none: 'Nothing found. Try fewer or other words.',
            didYouMean: 'Did you mean',
            showingFor: 'Showing results for',
            insteadFor: 'search instead for',
            relaxed: 'No post contains all the words; showing posts that ' +
                'contain some of them.',
            error: 'Search failed',
            offline: 'The search server did not answer.',
            prev: '← Previous',
            next: 'Next →',
            page: 'Page',
            open: 'Open',
            keys: '↑ ↓ to move, Enter to open, / to search',
            lang_ru: 'Russian', lang_it: 'Italian', lang_en: 'English'
        },
        ru: {
            title: 'cxsearch: поиск по текстам о клиентском опыте',
            label: 'Поиск по постам',
            placeholder: 'Искать в постах о CX…',
            sort: 'Сортировка',
            sortRelevance: 'По релевантности',
            sortNewest: 'Сначала новые',
            sortOldest: 'Сначала старые',
            filters: 'Фильтры',
            clearFilters: 'Сбросить фильтры',
            results: 'Результаты',
            pages: 'Страницы',
            facet_channel: 'Канал',
            facet_lang: 'Язык',
            facet_tag: 'Тег',
            facet_year: 'Год',
            more: 'ещё…',
            less: 'свернуть',
            count: function (a, b, n, exact) {
                return a + '–' + b + ' из ' + (exact ? '' : 'примерно ') + n;
            },
            took: function (ms) { return ms + ' мс'; },
            allPosts: 'Все посты',
            none: 'Ничего не найдено. Попробуйте меньше слов или другие слова.',
            didYouMean: 'Возможно, вы имели в виду',
            showingFor: 'Показаны результаты по запросу',
            insteadFor: 'искать именно',
            relaxed: 'Ни один пост не содержит всех слов; показаны посты, ' +
                'где есть часть из них.',
            error: 'Ошибка поиска',
            offline: 'Сервер поиска не ответил.',
            prev: '← Назад',
            next: 'Вперёд →',
            page: 'Страница',
            open: 'Открыть',
            keys: '↑ ↓ — выбор, Enter — открыть, / — к поиску',
            lang_ru: 'Русский', lang_it: 'Итальянский', lang_en: 'Английский'
        },
        it: {
            title: 'cxsearch: cerca nei testi sulla customer experience',
            label: 'Cerca nei post',
            placeholder: 'Cerca nei post sulla CX…',
            sort: 'Ordina',
            sortRelevance: 'Più pertinenti',
            sortNewest: 'Più recenti',
            sortOldest: 'Meno recenti',
            filters: 'Filtri',
            clearFilters: 'Azzera i filtri',
            results: 'Risultati',
            pages: 'Pagine',
            facet_channel: 'Canale',
            facet_lang: 'Lingua',
            facet_tag: 'Tag',
            facet_year: 'Anno',
            more: 'altri…',
            less: 'meno',
            count: function (a, b, n, exact) {
                return a + '–' + b + ' di ' + (exact ? '' : 'circa ') + n;
            },
            took: function (ms) { return ms + ' ms'; },
            allPosts: 'Tutti i post',
            none: 'Nessun risultato. Prova con meno parole o con altre.',
            didYouMean: 'Forse cercavi',
            showingFor: 'Risultati per',
            insteadFor: 'cerca invece',
            relaxed: 'Nessun post contiene tutte le parole; ecco i post che ' +
                'ne contengono alcune.',
            error: 'Ricerca non riuscita',
            offline: 'Il server di ricerca non ha risposto.',
            prev: '← Precedente',
            next: 'Successiva →',
            page: 'Pagina',
            open: 'Apri',
            keys: '↑ ↓ per scegliere, Invio per aprire, / per cercare',
            lang_ru: 'Russo', lang_it: 'Italiano', lang_en: 'Inglese'
        }
    };

    /* The first of the browser's languages we have, else English. */
    function pickLanguage(langs) {
        for (var i = 0; i < langs.length; i++) {
            var code = String(langs[i] || '').slice(0, 2).toLowerCase();
            if (STRINGS[code]) return code;
        }
        return 'en';
    }

    var UI = pickLanguage(navigator.languages && navigator.languages.length
        ? navigator.languages : [navigator.language]);
    var T = STRINGS[UI];

    function applyStrings() {
        document.documentElement.lang = UI;
        document.title = T.title;
        each(document.querySelectorAll('[data-i18n]'), function (el) {
            var s = T[el.getAttribute('data-i18n')];
            if (typeof s === 'string') el.textContent = s;
        });
        each(document.querySelectorAll('[data-i18n-placeholder]'), function (el) {
            el.placeholder = T[el.getAttribute('data-i18n-placeholder')];
        });
        each(document.querySelectorAll('[data-i18n-aria]'), function (el) {
            el.setAttribute('aria-label', T[el.getAttribute('data-i18n-aria')]);
        });
    }

    /* ---- small helpers ---- */

    function each(list, fn) {
        Array.prototype.forEach.call(list, fn);
    }

    function $(id) {
        return document.getElementById(id);
    }

    function el(tag, cls, text) {
        var e = document.createElement(tag);
        if (cls) e.className = cls;
        if (text !== undefined && text !== null) e.textContent = String(text);
        return e;
    }

    /* The one way server HTML and links reach the page: highlight.js,
     * shared with the widget and loaded first by index.html. */
    var renderMarked = cxsHighlight.renderMarked;

    function formatDate(iso) {
        if (!iso) return '';
        var d = new Date(iso);
        if (isNaN(d.getTime())) return String(iso);
        try {
            return new Intl.DateTimeFormat(UI, { year: 'numeric',
                month: 'short', day: 'numeric' }).format(d);
        } catch (e) {
            return String(iso).slice(0, 10);
        }
    }

    function facetLabel(name, value) {
        if (name === 'lang' && T['lang_' + value]) return T['lang_' + value];
        if (name === 'tag') return '#' + value;
        return value;
    }

    /* ---- state and the URL ---- */

    var state = {
        q: '',
        sort: 'relevance',
        offset: 0,
        channel: [],
        lang: [],
        tag: [],
        year: ''
    };

    function readUrl() {
        var p = new URLSearchParams(location.search);
        state.q = p.get('q') || '';
        state.sort = /^(relevance|date|-date)$/.test(p.get('sort') || '')
            ? p.get('sort') : 'relevance';
        state.offset = Math.max(0, parseInt(p.get('offset'), 10) || 0);
        state.channel = p.getAll('channel');
        state.lang = p.getAll('lang');
        state.tag = p.getAll('tag');
        state.year = /^\d{4}$/.test(p.get('year') || '') ? p.get('year') : '';
        state.exact = p.get('exact') === '1';
        state.typing = false;
    }

    /* The page's own URL: what a user copies to share these results. */
    function pageParams() {
        var p = new URLSearchParams();
        if (state.q) p.set('q', state.q);
        ['channel', 'lang', 'tag'].forEach(function (f) {
            state[f].forEach(function (v) { p.append(f, v); });
        });
        if (state.year) p.set('year', state.year);
        if (state.sort !== 'relevance') p.set('sort', state.sort);
        if (state.offset) p.set('offset', String(state.offset));
        if (state.exact) p.set('exact', '1');
        return p;
    }

    function writeUrl() {
        var s = pageParams().toString();
        var url = location.pathname + (s ? '?' + s : '') + location.hash;
        if (url !== location.pathname + location.search + location.hash) {
            history.replaceState(null, '', url);
        }
    }

    /* The API's parameters for the current state. */
    function apiParams() {
        var p = new URLSearchParams();
        p.set('q', state.q);
        p.set('limit', String(PAGE_SIZE));
        p.set('offset', String(state.offset));
        /* Relevance means nothing without words: browse newest first. */
        p.set('sort', !state.q && state.sort === 'relevance' ? '-date'
            : state.sort);
        p.set('facets', FACETS.join(','));
        ['channel', 'lang', 'tag'].forEach(function (f) {
            state[f].forEach(function (v) { p.append(f, v); });
        });
        if (state.year) {
            p.set('from', state.year);
            p.set('to', state.year);
        }
        if (state.exact) p.set('exact', '1');
        else if (state.typing) p.set('typing', '1');
        return p;
    }

    function hasFilters() {
        return state.channel.length || state.lang.length || state.tag.length ||
            state.year;
    }

    /* ---- fetching ---- */

    var seq = 0;
    var inflight = null;
    var timer = null;

    function schedule(delay) {
        clearTimeout(timer);
        timer = setTimeout(search, delay);
    }

    /* The server's message, whatever shape its error body has. */
    function errorText(j, r) {
        var e = j && (j.error !== undefined ? j.error : j);
        if (e && typeof e === 'object') e = e.message;
        return typeof e === 'string' && e ? e : r.status + ' ' + r.statusText;
    }

    function search() {
        clearTimeout(timer);
        writeUrl();
        var mine = ++seq;
        if (inflight) inflight.abort();
        inflight = typeof AbortController === 'function'
            ? new AbortController() : null;
        document.body.classList.add('cx-busy');
        fetch('search?' + apiParams().toString(), {
            headers: { Accept: 'application/json' },
            signal: inflight ? inflight.signal : undefined
        }).then(function (r) {
            return r.json().catch(function () { return {}; }).then(function (j) {
                if (!r.ok) throw new Error(errorText(j, r));
                return j;
            });
        }).then(function (res) {
            if (mine === seq) render(res || {});
        }, function (err) {
            if (mine !== seq || (err && err.name === 'AbortError')) return;
            showError(err && err.message && err.message !== 'Failed to fetch'
                ? T.error + ': ' + err.message : T.offline);
        }).then(function () {
            if (mine === seq) document.body.classList.remove('cx-busy');
        });
    }

    /* ---- rendering ---- */

    /* Old results would look like answers to the new query: clear them,
     * but keep the chosen filters visible so they can be unchosen. */
    function showError(msg) {
        var e = $('cx-error');
        e.textContent = msg;
        e.hidden = false;
        $('cx-status').textContent = '';
        $('cx-suggestion').hidden = true;
        $('cx-rewrites').hidden = true;
        $('cx-relaxed').hidden = true;
        $('cx-results').textContent = '';
        $('cx-pages').textContent = '';
        renderFacets({});
    }

    function render(res) {
        $('cx-error').hidden = true;
        $('cx-relaxed').hidden = !res.relaxed;
        renderSuggestion(res.suggestion);
        renderRewrites(res);
        renderStatus(res);
        renderHits(res.hits || []);
        renderFacets(res.facets || {});
        renderPages(Number(res.total) || 0);
    }

    function renderSuggestion(s) {
        var box = $('cx-suggestion');
        box.textContent = '';
        box.hidden = !s || s === state.q;
        if (box.hidden) return;
        box.appendChild(document.createTextNode(T.didYouMean + ': '));
        var a = el('a', 'cx-suggest-link', s);
        a.id = 'cx-suggest-link';
        a.href = '?q=' + encodeURIComponent(s);
        a.addEventListener('click', function (ev) {
            ev.preventDefault();
            setQuery(s);
        });
        box.appendChild(a);
        box.appendChild(document.createTextNode('?'));
    }

    /* "Showing results for <read as> · search instead for <as typed>",
     * when the server read some word otherwise (typo, layout, ...); a
     * completion of the word being typed is not worth a line. */
    function renderRewrites(res) {
        var box = $('cx-rewrites');
        box.textContent = '';
        var rw = (res.rewrites || []).filter(function (r) {
            return r && r.why !== 'prefix' && r.why !== 'synonym';
        });
        box.hidden = !rw.length || typeof res.read_as !== 'string';
        if (box.hidden) return;
        var typed = state.q;
        box.appendChild(document.createTextNode(T.showingFor + ' '));
        var b = el('b', 'cx-read-as', res.read_as);
        b.id = 'cx-read-as';
        box.appendChild(b);
        box.appendChild(document.createTextNode(' · ' + T.insteadFor + ' '));
        var a = el('a', 'cx-exact-link', typed);
        a.id = 'cx-exact-link';
        a.href = '?q=' + encodeURIComponent(typed) + '&exact=1';
        a.addEventListener('click', function (ev) {
            ev.preventDefault();
            state.exact = true;
            setQuery(typed);
        });
        box.appendChild(a);
    }

    function renderStatus(res) {
        var hits = res.hits || [];
        var st = $('cx-status');
        if (!hits.length) {
            st.textContent = T.none;
            return;
        }
        var a = state.offset + 1, b = state.offset + hits.length;
        var total = Math.max(Number(res.total) || 0, b);
        var fmt = new Intl.NumberFormat(UI);
        /* Exact unless the server says it estimated (total_exact: false)
         * and this is not the last page. */
        var exact = res.total_exact !== false || total === b;
        var text = T.count(fmt.format(a), fmt.format(b), fmt.format(total),
            exact);
        if (!state.q) text = T.allPosts + ': ' + text;
        if (typeof res.took_ms === 'number') {
            text += ' · ' + T.took(Math.round(res.took_ms));
        }
        st.textContent = text;
    }

    function renderHits(hits) {
        var list = $('cx-results');
        list.textContent = '';
        hits.forEach(function (h, i) {
            list.appendChild(renderHit(h, i));
        });
    }

    function renderHit(h, i) {
        var li = el('li', 'cx-hit');
        li.id = 'cx-hit-' + i;
        li.setAttribute('data-id', String(h.id || ''));
        var title = cxsHighlight.hitTitle(h, 'cx-title', location.href);
        if (title.tagName !== 'A') title.tabIndex = 0;
        var heading = el('h2', 'cx-hit-title');
        heading.appendChild(title);
        li.appendChild(heading);
        var snip = el('p', 'cx-snippet');
        renderMarked(snip, h.snippet);
        li.appendChild(snip);
        li.appendChild(renderMeta(h));
        return li;
    }

    function renderMeta(h) {
        var meta = el('p', 'cx-meta');
        var parts = [];
        if (h.channel) parts.push(el('span', 'cx-channel', h.channel));
        if (h.author) parts.push(el('span', 'cx-author', h.author));
        if (h.date) {
            var t = el('time', 'cx-date', formatDate(h.date));
            t.dateTime = String(h.date);
            parts.push(t);
        }
        if (h.lang) parts.push(el('span', 'cx-lang', String(h.lang).toUpperCase()));
        parts.forEach(function (p, i) {
            if (i) meta.appendChild(document.createTextNode(' · '));
            meta.appendChild(p);
        });
        (Array.isArray(h.tags) ? h.tags : []).forEach(function (tag) {
            var b = el('button', 'cx-tag', '#' + tag);
            b.type = 'button';
            b.tabIndex = -1;
            b.addEventListener('click', function () { toggle('tag', String(tag)); });
            meta.appendChild(document.createTextNode(' '));
            meta.appendChild(b);
        });
        return meta;
    }

    var expanded = {};
    var lastFacets = {};

    /* Facet values with counts; chosen values stay visible even when the
     * current results hold none of them, so they can be unchosen. */
    function facetEntries(name, counts) {
        var chosen = name === 'year' ? (state.year ? [state.year] : [])
            : state[name];
        var map = {};
        Object.keys(counts || {}).forEach(function (k) {
            map[k] = Number(counts[k]) || 0;
        });
        chosen.forEach(function (v) { if (!(v in map)) map[v] = 0; });
        var keys = Object.keys(map);
        keys.sort(name === 'year'
            ? function (a, b) { return b < a ? -1 : b > a ? 1 : 0; }
            : function (a, b) {
                return map[b] - map[a] || (a < b ? -1 : a > b ? 1 : 0);
            });
        return keys.map(function (k) {
            return { value: k, count: map[k], on: chosen.indexOf(k) >= 0 };
        });
    }

    function renderFacets(facets) {
        lastFacets = facets;
        var box = $('cx-facet-groups');
        box.textContent = '';
        FACETS.forEach(function (name) {
            var entries = facetEntries(name, facets[name]);
            if (entries.length) box.appendChild(renderFacet(name, entries));
        });
        $('cx-clear').hidden = !hasFilters();
    }

    function renderFacet(name, entries) {
        var group = el('section', 'cx-facet');
        group.id = 'cx-facet-' + name;
        var h = el('h3', 'cx-facet-name', T['facet_' + name]);
        group.appendChild(h);
        var ul = el('ul', 'cx-facet-values');
        var limit = expanded[name] ? entries.length : FACET_LIMIT;
        entries.forEach(function (e, i) {
            if (i >= limit && !e.on) return;
            ul.appendChild(renderFacetValue(name, e));
        });
        group.appendChild(ul);
        if (entries.length > FACET_LIMIT) {
            var more = el('button', 'cx-more', expanded[name] ? T.less : T.more);
            more.type = 'button';
            more.addEventListener('click', function () {
                expanded[name] = !expanded[name];
                renderFacets(lastFacets);
            });
            group.appendChild(more);
        }
        return group;
    }

    function renderFacetValue(name, e) {
        var li = el('li');
        var b = el('button', 'cx-facet-value' + (e.on ? ' cx-on' : ''));
        b.type = 'button';
        b.setAttribute('aria-pressed', e.on ? 'true' : 'false');
        b.setAttribute('data-facet', name);
        b.setAttribute('data-value', e.value);
        b.appendChild(el('span', 'cx-facet-label', facetLabel(name, e.value)));
        b.appendChild(el('span', 'cx-facet-count', e.count));
        b.addEventListener('click', function () { toggle(name, e.value); });
        li.appendChild(b);
        return li;
    }

    function renderPages(total) {
        var nav = $('cx-pages');
        nav.textContent = '';
        var pages = Math.ceil(total / PAGE_SIZE);
        var cur = Math.floor(state.offset / PAGE_SIZE);
        if (pages <= 1 && cur === 0) return;
        nav.appendChild(pageButton(T.prev, cur - 1, cur <= 0, 'cx-prev'));
        pageWindow(cur, pages).forEach(function (n) {
            if (n < 0) {
                nav.appendChild(el('span', 'cx-gap', '…'));
                return;
            }
            var b = pageButton(String(n + 1), n, false, null);
            b.setAttribute('aria-label', T.page + ' ' + (n + 1));
            if (n === cur) b.setAttribute('aria-current', 'page');
            nav.appendChild(b);
        });
        nav.appendChild(pageButton(T.next, cur + 1, cur + 1 >= pages, 'cx-next'));
    }

    /* Page numbers around the current one, -1 for a gap. */
    function pageWindow(cur, pages) {
        var out = [];
        for (var n = 0; n < pages; n++) {
            if (n === 0 || n === pages - 1 || Math.abs(n - cur) <= 2) {
                out.push(n);
            } else if (out[out.length - 1] !== -1) {
                out.push(-1);
            }
        }
        return out;
    }

    function pageButton(label, page, disabled, id) {
        var b = el('button', 'cx-page', label);
        b.type = 'button';
        if (id) b.id = id;
        b.disabled = disabled;
        b.addEventListener('click', function () {
            state.offset = page * PAGE_SIZE;
            search();
            window.scrollTo(0, 0);
            $('cx-q').focus({ preventScroll: true });
        });
        return b;
    }

    /* ---- actions ---- */

    function toggle(name, value) {
        if (name === 'year') {
            state.year = state.year === value ? '' : value;
        } else {
            var i = state[name].indexOf(value);
            if (i >= 0) state[name].splice(i, 1);
            else state[name].push(value);
        }
        state.offset = 0;
        search();
    }

    function setQuery(q) {
        $('cx-q').value = q;
        state.q = q;
        state.offset = 0;
        state.typing = false;
        search();
    }

    function clearFilters() {
        state.channel = [];
        state.lang = [];
        state.tag = [];
        state.year = '';
        state.offset = 0;
        search();
    }

    /* ---- keyboard: arrows move through results, Enter opens ---- */

    function hitLinks() {
        return document.querySelectorAll('#cx-results .cx-title');
    }

    function moveTo(i) {
        var links = hitLinks();
        each(document.querySelectorAll('#cx-results .cx-active'), function (li) {
            li.classList.remove('cx-active');
        });
        if (i < 0 || !links.length) {
            $('cx-q').focus();
            return;
        }
        var link = links[Math.min(i, links.length - 1)];
        var li = link.closest('li');
        li.classList.add('cx-active');
        link.focus();
        li.scrollIntoView({ block: 'nearest' });
    }

    /* The result holding el: focus may have got there by Tab or a click. */
    function hitIndex(node) {
        var li = node.closest('#cx-results > li');
        return li ? Array.prototype.indexOf.call(li.parentNode.children, li)
            : -1;
    }

    function onKey(ev) {
        var t = ev.target;
        var inInput = t === $('cx-q');
        var inResults = $('cx-results').contains(t);
        if (ev.key === '/' && !inInput && !/^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName)) {
            ev.preventDefault();
            $('cx-q').focus();
            $('cx-q').select();
        } else if (ev.key === 'ArrowDown' && (inInput || inResults)) {
            ev.preventDefault();
            moveTo(inInput ? 0 : hitIndex(t) + 1);
        } else if (ev.key === 'ArrowUp' && inResults) {
            ev.preventDefault();
            moveTo(hitIndex(t) - 1);
        } else if (ev.key === 'Escape' && inResults) {
            moveTo(-1);
        }
    }

    /* ---- start ---- */

    function start() {
        applyStrings();
        readUrl();
        var q = $('cx-q');
        q.value = state.q;
        $('cx-sort').value = state.sort;
        q.addEventListener('input', function () {
            state.q = q.value;
            state.offset = 0;
            state.typing = true;
            state.exact = false; /* a new query is forgiven again */
            schedule(q.value ? DEBOUNCE_MS : 0);
        });
        $('cx-form').addEventListener('submit', function (ev) {
            ev.preventDefault();
            state.q = q.value;
            state.offset = 0;
            state.typing = false;
            search();
        });
        $('cx-sort').addEventListener('change', function () {
            state.sort = $('cx-sort').value;
            state.offset = 0;
            search();
        });
        $('cx-clear').addEventListener('click', clearFilters);
        document.addEventListener('keydown', onKey);
        if (window.matchMedia && window.matchMedia('(max-width: 720px)').matches) {
            $('cx-facets-box').open = false;
        }
        search();
    }

    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', start);
    } else {
        start();
    }
})();
