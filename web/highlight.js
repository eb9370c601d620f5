/*
 * highlight.js - the one place a search answer's HTML reaches a page: turns
 * a title or snippet with <mark> highlights into DOM nodes, and keeps links
 * only for http(s). Shared by the search page and the widget (issue 13).
 *
 * Facts that shaped it:
 * - Snippets and titles arrive HTML-escaped with <mark>...</mark> around
 *   matches. They are NOT assigned to innerHTML: renderMarked() splits on
 *   the two mark tags, decodes the entities of the text in between and
 *   builds text nodes, so only <mark> can ever become an element, even if
 *   the server forgot to escape something (posts quote <script> tags and
 *   onerror= on purpose).
 * - One file, two users. index.html loads it before app.js, so on the page
 *   it defines one global, cxsHighlight. The widget must stay one file that
 *   adds no globals: cxsearchd pastes this file into widget.js's closure
 *   where widget.js has its include line (server/static.c), so there
 *   cxsHighlight is a local variable. Hence a classic script (no
 *   import/export) that touches nothing when it loads.
 */
var cxsHighlight = (function () {
    'use strict';

    var ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'",
                     nbsp: '\u00a0' };

    /* Decodes the entities an HTML escaper produces; unknown ones stay. */
    function decodeEntities(s) {
        return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, function (m, e) {
            if (e[0] === '#') {
                var cp = e[1] === 'x' || e[1] === 'X'
                    ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
                return cp > 0 && cp <= 0x10ffff &&
                    !(cp >= 0xd800 && cp <= 0xdfff)
                    ? String.fromCodePoint(cp) : m;
            }
            var k = e.toLowerCase();
            return Object.prototype.hasOwnProperty.call(ENTITIES, k)
                ? ENTITIES[k] : m;
        });
    }

    /* Appends to parent the nodes of an escaped string with <mark>
     * highlights: text nodes, and <mark> elements holding text nodes. */
    function renderMarked(parent, html) {
        var parts = String(html || '').split(/(<mark>|<\/mark>)/i);
        var target = parent;
        for (var i = 0; i < parts.length; i++) {
            var p = parts[i];
            if (/^<mark>$/i.test(p)) {
                if (target === parent) {
                    target = parent.appendChild(document.createElement('mark'));
                }
            } else if (/^<\/mark>$/i.test(p)) {
                target = parent;
            } else if (p) {
                target.appendChild(document.createTextNode(decodeEntities(p)));
            }
        }
    }

    /* The absolute URL of u (relative to base) if it is http(s), else
     * null: a post's url never becomes a javascript: or data: link. */
    function safeUrl(u, base) {
        try {
            var url = new URL(String(u), base);
            return url.protocol === 'http:' || url.protocol === 'https:'
                ? url.href : null;
        } catch (e) {
            return null;
        }
    }

    /* A hit's highlighted title (or its id) with class cls: a link to its
     * url (base resolves a relative one) opening a new tab without
     * opener or referrer, or a <span> when the url is not http(s). */
    function hitTitle(h, cls, base) {
        var href = safeUrl(h.url, base);
        var t = document.createElement(href ? 'a' : 'span');
        t.className = cls;
        if (href) {
            t.href = href;
            t.target = '_blank';
            t.rel = 'noopener noreferrer';
        }
        renderMarked(t, h.title || h.id || '');
        return t;
    }

    return { renderMarked: renderMarked, hitTitle: hitTitle };
})();
