// The official Meilisearch JavaScript client (npm `meilisearch`, pinned in
// package-lock.json, unmodified) against a live cxsearchd, driven by
// tests/e2e/test_meili_client.py, which starts the daemon with a write key
// (the master key) and a read key (the search key) and passes:
//   CXS_URL     http://127.0.0.1:PORT
//   CXS_MASTER  the write key
//   CXS_SEARCH  the read key
// Each check prints "ok NAME" or "FAIL NAME: why"; the exit status is 1
// when any failed. The documents are this test's own.
import { Meilisearch, MeilisearchApiError } from "meilisearch";
import { generateTenantToken } from "meilisearch/token";
import { createHmac } from "node:crypto";
import { isDeepStrictEqual } from "node:util";

const { CXS_URL: host, CXS_MASTER: master, CXS_SEARCH: searchKey } = process.env;
let failed = 0;

function check(cond, name, detail) {
  if (cond) console.log(`ok ${name}`);
  else {
    failed++;
    console.log(`FAIL ${name}: ${JSON.stringify(detail)}`);
  }
}

// Runs fn; the Meilisearch error it throws (code, status), or null.
async function apiError(fn) {
  try {
    await fn();
    return null;
  } catch (e) {
    if (!(e instanceof MeilisearchApiError)) return { code: `not an API error: ${e}` };
    return { code: e.cause?.code, status: e.response?.status, type: e.cause?.type,
             link: e.cause?.link, message: e.cause?.message };
  }
}

const DOCS = [
  { id: 1, title: "Как мерить клиентский путь", channel: "team_a", lang: "ru",
    content: "Заметка о том, как улучшение клиентского опыта снижает отток.",
    rating: 4.5, meta: { owner: "ops", draft: false } },
  { id: 2, title: "Il percorso del cliente", channel: "team_b", lang: "it",
    content: "Tre passi per disegnare il percorso del cliente in negozio." },
  { id: 3, title: "Survey fatigue", channel: "team_b", lang: "en",
    content: "Shorter surveys get more honest answers from customers.",
    tags: ["NPS", "surveys"] },
  { id: 4, title: "Опрос после звонка", channel: "team_a", lang: "ru",
    content: "Короткий опрос после звонка в поддержку." },
];

// Generous waits: the suite also runs under AddressSanitizer.
const defaultWaitOptions = { timeout: 120000 };
const admin = new Meilisearch({ host, apiKey: master, defaultWaitOptions });
const posts = admin.index("posts");

async function instance() {
  const h = await admin.health();
  check(h.status === "available", "health", h);
  check(await admin.isHealthy(), "isHealthy");
  const v = await admin.getVersion();
  check(typeof v.pkgVersion === "string" && v.pkgVersion.length > 0, "getVersion", v);
}

async function documents() {
  const task = await posts.addDocuments(DOCS).waitTask();
  check(task.status === "succeeded" && task.type === "documentAdditionOrUpdate" &&
        task.details.receivedDocuments === 4 && task.details.indexedDocuments === 4,
        "addDocuments+waitTask", task);
  const one = await posts.getDocument(1);
  check(isDeepStrictEqual(one, DOCS[0]), "getDocument returns the document as sent", one);
  const some = await posts.getDocument(3, { fields: ["title", "tags"] });
  check(isDeepStrictEqual(some, { title: "Survey fatigue", tags: ["NPS", "surveys"] }),
        "getDocument with fields", some);
  const upd = await posts.updateDocuments([{ id: 1, rating: 5, views: 10 }]).waitTask();
  check(upd.status === "succeeded", "updateDocuments+waitTask", upd);
  const merged = await posts.getDocument(1);
  check(isDeepStrictEqual(merged, { ...DOCS[0], rating: 5, views: 10 }),
        "updateDocuments merges fields", merged);
  const all = await posts.getDocuments({ limit: 3 });
  check(all.total === 4 && all.results.length === 3 && all.limit === 3,
        "getDocuments pages", all);
  const b = await posts.getDocuments({ filter: "channel = team_b", fields: ["id"] });
  check(isDeepStrictEqual(b.results.map((d) => d.id).sort(), [2, 3]) && b.total === 2,
        "getDocuments with a filter", b);
  const del = await posts.deleteDocument(4).waitTask();
  check(del.status === "succeeded" && del.details.deletedDocuments === 1,
        "deleteDocument+waitTask", del);
  const gone = await apiError(() => posts.getDocument(4));
  check(gone?.code === "document_not_found" && gone.status === 404,
        "a deleted document is gone (404 document_not_found)", gone);
}

async function ordering() {
  // Three writes sent one after the other, none waited for, apply in the
  // order they were accepted.
  const tasks = [
    await posts.addDocuments([{ id: 9, content: "prima versione", channel: "team_b" }]),
    await posts.deleteDocument(9),
    await posts.addDocuments([{ id: 9, content: "terza versione", channel: "team_b" }])];
  check(tasks[0].taskUid < tasks[1].taskUid && tasks[1].taskUid < tasks[2].taskUid,
        "task uids grow", tasks);
  const last = await admin.tasks.waitForTask(tasks[2].taskUid);
  const doc = await posts.getDocument(9);
  check(last.status === "succeeded" && doc.content === "terza versione",
        "writes apply in order", { last, doc });
  const list = await admin.tasks.getTasks({ limit: 2 });
  check(list.results.length === 2 && list.results[0].uid === tasks[2].taskUid &&
        typeof list.total === "number" && "next" in list, "getTasks", list);
  await posts.deleteDocument(9).waitTask();
}

async function searching() {
  const r = await posts.search("клиентский опыт");
  check(r.hits.some((h) => h.id === 1),
        "'клиентский опыт' finds 'клиентского опыта'", r.hits);
  const f = await posts.search("", { filter: "channel = team_b" });
  check(f.hits.length === 2 && f.hits.every((h) => h.channel === "team_b"),
        "search with a filter", f.hits);
}

async function keysAndTokens() {
  const { results } = await admin.getKeys();
  const search = results.find((k) => k.actions.includes("search") && !k.actions.includes("*"));
  const adminKey = results.find((k) => k.actions.includes("*"));
  check(search && adminKey && search.key === searchKey && search.indexes.includes("*"),
        "getKeys lists the search and admin keys", results);
  const got = await admin.getKey(search.uid);
  check(got.key === searchKey, "getKey by uid", got);

  const expiresAt = new Date(Date.now() + 3600 * 1000);
  const token = await generateTenantToken({
    apiKey: search.key, apiKeyUid: search.uid, expiresAt,
    searchRules: { posts: { filter: "channel = team_a" } } });
  const tenant = new Meilisearch({ host, apiKey: token }).index("posts");
  const t1 = await tenant.search("");
  check(t1.hits.length > 0 && t1.hits.every((h) => h.channel === "team_a"),
        "a tenant token's filter is enforced", t1.hits);
  const t2 = await tenant.search("", { filter: "channel = team_b" });
  check(t2.hits.length === 0, "a tenant token cannot widen its filter", t2.hits);

  const viaAdmin = await generateTenantToken({
    apiKey: adminKey.key, apiKeyUid: adminKey.uid, searchRules: ["posts"] });
  const t3 = await new Meilisearch({ host, apiKey: viaAdmin }).index("posts").search("");
  check(t3.hits.length === 3, "a token of the admin key with all of the index", t3.hits);

  const refused = async (name, tok) => {
    const e = await apiError(() => new Meilisearch({ host, apiKey: tok }).index("posts").search(""));
    check(e && e.code === "invalid_api_key" && e.status === 403 && e.type === "auth",
          `refused: ${name}`, e);
  };
  await refused("expired", await generateTenantToken({
    apiKey: search.key, apiKeyUid: search.uid, expiresAt: Math.floor(Date.now() / 1000) - 10,
    searchRules: ["*"] }));
  await refused("signed by another key", await generateTenantToken({
    apiKey: "not-the-search-key-0123456789abcdef", apiKeyUid: search.uid, searchRules: ["*"] }));
  await refused("unknown apiKeyUid", await generateTenantToken({
    apiKey: search.key, apiKeyUid: "00000000-0000-4000-8000-000000000000", searchRules: ["*"] }));
  await refused("another index only", await generateTenantToken({
    apiKey: search.key, apiKeyUid: search.uid, searchRules: ["wiki"] }));
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const payload = b64({ apiKeyUid: search.uid, searchRules: ["*"] });
  await refused("alg none", `${b64({ alg: "none", typ: "JWT" })}.${payload}.`);
  await refused("alg none, with a signature", `${b64({ alg: "none", typ: "JWT" })}.${payload}.` +
    createHmac("sha256", search.key).update(`${b64({ alg: "none" })}.${payload}`).digest("base64url"));
  await refused("HS512", `${b64({ alg: "HS512", typ: "JWT" })}.${payload}.` +
    createHmac("sha512", search.key).update("x").digest("base64url"));
  await refused("not a JWT", "abc.def");
  const e = await apiError(() => new Meilisearch({ host, apiKey: token }).getKeys());
  check(e && e.status === 403, "a tenant token is no key for /keys", e);
}

async function settingsAndIndex() {
  const s = await posts.getSettings();
  check(s.filterableAttributes.includes("channel") && s.sortableAttributes.includes("date"),
        "getSettings", s);
  const ok = await posts.updateFilterableAttributes(["channel", "lang"]).waitTask();
  check(ok.status === "succeeded" && ok.type === "settingsUpdate",
        "a setting cxsearch already has is accepted", ok);
  const no = await apiError(() => posts.updateSortableAttributes(["price"]));
  check(no?.code === "invalid_settings_sortable_attributes" && no.status === 400 && no.link,
        "a setting cxsearch cannot have is refused", no);
  const info = await admin.getIndex("posts");
  check(info.uid === "posts" && info.primaryKey === "id", "getIndex", info);
  const st = await posts.getStats();
  check(st.numberOfDocuments === 3, "index getStats", st);
  const gs = await admin.getStats();
  check(gs.indexes.posts.numberOfDocuments === 3, "getStats", gs);
  const missing = await apiError(() => admin.index("nope").getDocument(1));
  check(missing?.code === "index_not_found" && missing.status === 404, "index_not_found", missing);
}

async function badDocuments() {
  const before = await posts.getDocuments({ limit: 100 });
  const t1 = await posts.addDocuments([{ content: "no id" }]).waitTask();
  check(t1.status === "failed" && t1.error?.code === "missing_document_id" && t1.error.link,
        "a document without its primary key fails the task", t1);
  const t2 = await posts.addDocuments([{ id: 1, content: "replaced?" }, { id: { a: 1 }, content: "x" }]).waitTask();
  check(t2.status === "failed" && t2.error?.code === "invalid_document_id",
        "a primary key of the wrong type fails the task", t2);
  const t3 = await posts.addDocuments([{ id: 2, text: { nested: "object" } }]).waitTask();
  check(t3.status === "failed" && t3.error?.code === "invalid_document_fields",
        "an object where text is expected fails the task", t3);
  const after = await posts.getDocuments({ limit: 100 });
  check(isDeepStrictEqual(before, after), "failed tasks change nothing", { before, after });
}

const steps = [instance, documents, ordering, searching, keysAndTokens, settingsAndIndex, badDocuments];
for (const step of steps) {
  try {
    await step();
  } catch (e) {
    check(false, `${step.name} threw`, `${e.stack}\n${JSON.stringify(e.cause)}`);
  }
}
console.log(`${failed} failed`);
process.exit(failed ? 1 : 0);
