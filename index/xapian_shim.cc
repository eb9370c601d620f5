/*
 * xapian_shim.cc - the C boundary around Xapian (see xapian_shim.h).
 *
 * The only C++ in the index. Every exported function is a thin `try`
 * around Xapian calls; GUARD turns exceptions into cxs_status values so no
 * exception crosses into C. Readers retry once on DatabaseModifiedError
 * (a writer committed so often that the revision we read was recycled).
 *
 * Remote shards (xapian-tcpsrv, xapian-progsrv) shaped the reader: Xapian
 * searches them as one database but fails whole when one fails, and a
 * connection that failed mid-message is spent. So each shard keeps its own
 * handle; one that does not answer is replaced by an empty in-memory
 * database (the others keep their place, so document ids stay the same),
 * and after a network error every remote shard is connected afresh. The
 * remote protocol gives no revisions (a commit count in metadata stands
 * in), and runs no class of ours (built-in match spies
 * only; no recency posting source).
 */
#include "xapian_shim.h"

#include <sys/stat.h>
#include <time.h>

#include <xapian.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

/* One shard of a reader: a local folder or stub file, or a database served
 * by xapian-tcpsrv (tcp://) or xapian-progsrv (ssh://, prog:). */
struct cxs_xshard {
    std::string spec;   /* as configured */
    Xapian::Database db; /* the open shard; an empty placeholder when down */
    bool remote = false; /* tcp://, ssh:// or prog: (timeouts apply) */
    bool up = true;
    std::string error;  /* why it is down */
    double retry_at = 0; /* monotonic seconds: next reconnect attempt */
    unsigned long long rev = 0; /* last revision read (kept while down) */
    /* Identity of a local folder (or its stub file) when opened: a folder
     * swapped for another (a new index built in shards and merged,
     * index/shards.c, or a replica copied afresh by xapian-replicate)
     * must be opened afresh, as reopen() would read the new revision
     * through the old files. */
    std::pair<dev_t, ino_t> id{0, 0};
};

struct cxs_xdb {
    Xapian::Database db; /* all shards, searched as one */
    std::vector<cxs_xshard> shards;
    cxs_xdb_opts opts;
};

struct cxs_xwdb {
    Xapian::WritableDatabase db;
    bool in_txn = false;
};

struct cxs_xdoc {
    Xapian::Document doc;
};

namespace {

const Xapian::doccount CHECK_AT_LEAST = 200;

cxs_status fail(cxs_err *err, cxs_status code, const std::string &what) {
    return cxs_err_set(err, code, "%s", what.c_str());
}

/* Runs fn, mapping every exception to a status. */
template <typename F> cxs_status guard(cxs_err *err, F fn) {
    try {
        return fn();
    } catch (const Xapian::DatabaseLockError &e) {
        return fail(err, CXS_ERR_LOCKED,
                    "index is locked by another writer (" + e.get_msg() + ")");
    } catch (const Xapian::DatabaseOpeningError &e) {
        return fail(err, CXS_ERR_NOT_FOUND,
                    "cannot open index: " + e.get_msg());
    } catch (const Xapian::DocNotFoundError &e) {
        return fail(err, CXS_ERR_NOT_FOUND, e.get_msg());
    } catch (const Xapian::NetworkError &e) {
        return fail(err, CXS_ERR_UNAVAILABLE,
                    "shard unreachable: " + std::string(e.get_type()) + ": " +
                        e.get_msg());
    } catch (const Xapian::Error &e) {
        return fail(err, CXS_ERR_INDEX,
                    std::string(e.get_type()) + ": " + e.get_msg());
    } catch (const std::bad_alloc &) {
        return fail(err, CXS_ERR_NOMEM, "out of memory");
    } catch (const std::exception &e) {
        return fail(err, CXS_ERR_INTERNAL, e.what());
    } catch (...) {
        return fail(err, CXS_ERR_INTERNAL, "unknown exception in Xapian");
    }
}

char *dup_str(const std::string &s) {
    char *p = static_cast<char *>(std::malloc(s.size() + 1));
    if (!p)
        throw std::bad_alloc();
    std::memcpy(p, s.data(), s.size());
    p[s.size()] = '\0';
    return p;
}

Xapian::Query::op op_of(cxs_qop op) {
    switch (op) {
    case CXS_Q_AND: return Xapian::Query::OP_AND;
    case CXS_Q_OR: return Xapian::Query::OP_OR;
    case CXS_Q_AND_NOT: return Xapian::Query::OP_AND_NOT;
    case CXS_Q_AND_MAYBE: return Xapian::Query::OP_AND_MAYBE;
    case CXS_Q_SYNONYM: return Xapian::Query::OP_SYNONYM;
    case CXS_Q_PHRASE: return Xapian::Query::OP_PHRASE;
    case CXS_Q_NEAR: return Xapian::Query::OP_NEAR;
    case CXS_Q_FILTER: return Xapian::Query::OP_FILTER;
    default: return Xapian::Query::OP_OR;
    }
}

/* Converts the C tree. Depth is bounded by the parser. */
Xapian::Query to_query(const cxs_qnode *q) {
    switch (q->op) {
    case CXS_Q_TERM:
        return Xapian::Query(std::string(q->term, q->term_len),
                             q->wqf ? q->wqf : 1);
    case CXS_Q_PREFIX:
        return Xapian::Query(Xapian::Query::OP_WILDCARD,
                             std::string(q->term, q->term_len),
                             q->window ? q->window : 100,
                             Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT);
    case CXS_Q_ALL: return Xapian::Query::MatchAll;
    case CXS_Q_NOTHING: return Xapian::Query::MatchNothing;
    case CXS_Q_RANGE:
        if (q->lo && q->hi)
            return Xapian::Query(Xapian::Query::OP_VALUE_RANGE, q->slot, q->lo,
                                 q->hi);
        if (q->lo)
            return Xapian::Query(Xapian::Query::OP_VALUE_GE, q->slot, q->lo);
        if (q->hi)
            return Xapian::Query(Xapian::Query::OP_VALUE_LE, q->slot, q->hi);
        return Xapian::Query::MatchAll;
    case CXS_Q_SCALE:
        if (q->nkids == 0)
            return Xapian::Query();
        return Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT,
                             to_query(q->kids[0]), q->scale);
    default: break;
    }
    std::vector<Xapian::Query> kids;
    kids.reserve(q->nkids);
    for (size_t i = 0; i < q->nkids; i++)
        kids.push_back(to_query(q->kids[i]));
    if (kids.empty())
        return Xapian::Query();
    Xapian::termcount window = 0;
    if (q->op == CXS_Q_PHRASE || q->op == CXS_Q_NEAR)
        window = q->window ? q->window : (Xapian::termcount)kids.size();
    return Xapian::Query(op_of(q->op), kids.begin(), kids.end(), window);
}

/* Counts of each part of a slot's values: a value holding '\x1f' counts
 * once per part (tags are multi-valued). Xapian's own ValueCountMatchSpy
 * counts whole values; being built in, it also runs inside xapian-tcpsrv,
 * which knows no class of ours, so the parts are split here, after the
 * shards' counts are merged. */
std::map<std::string, size_t> part_counts(const Xapian::ValueCountMatchSpy &spy) {
    std::map<std::string, size_t> counts;
    for (Xapian::TermIterator it = spy.values_begin(); it != spy.values_end();
         ++it) {
        std::string v = *it;
        for (size_t start = 0;;) {
            size_t end = v.find('\x1f', start);
            if (end != start && start < v.size())
                counts[v.substr(start, end - start)] += it.get_termfreq();
            if (end == std::string::npos)
                break;
            start = end + 1;
        }
    }
    return counts;
}

/* Adds boost * 2^(-age/halflife) to every matching document: newer posts
 * rank higher without hiding older, more relevant ones. */
class RecencySource : public Xapian::ValuePostingSource {
  public:
    RecencySource(Xapian::valueno slot, double boost, double halflife,
                  double now)
        : Xapian::ValuePostingSource(slot), boost_(boost), halflife_(halflife),
          now_(now) {
        set_maxweight(boost);
    }
    void init(const Xapian::Database &db) override {
        Xapian::ValuePostingSource::init(db);
        set_maxweight(boost_); /* an upper bound lets the matcher skip */
    }
    double get_weight() const override {
        double t = Xapian::sortable_unserialise(get_value());
        double age = now_ > t ? now_ - t : 0;
        return boost_ * std::exp2(-age / halflife_);
    }
    RecencySource *clone() const override {
        return new RecencySource(get_slot(), boost_, halflife_, now_);
    }
    std::string name() const override {
        return "cxs.RecencySource";
    }

  private:
    double boost_, halflife_, now_;
};

void fill_facets(cxs_xresult *res,
                 const std::vector<Xapian::ValueCountMatchSpy *> &spies,
                 const cxs_xsearch_opts *o) {
    res->facets = static_cast<cxs_xfacet *>(
        std::calloc(spies.size() ? spies.size() : 1, sizeof(cxs_xfacet)));
    if (!res->facets)
        throw std::bad_alloc();
    for (size_t i = 0; i < spies.size(); i++) {
        cxs_xfacet *f = &res->facets[res->nfacets++];
        f->slot = o->facet_slots[i];
        const auto c = part_counts(*spies[i]);
        f->v = static_cast<cxs_xfacet_value *>(
            std::calloc(c.size() ? c.size() : 1, sizeof(cxs_xfacet_value)));
        if (!f->v)
            throw std::bad_alloc();
        for (const auto &kv : c) {
            f->v[f->n].value = dup_str(kv.first);
            f->v[f->n].count = kv.second;
            f->n++;
        }
    }
}

void fill_matches(cxs_xresult *res, const Xapian::MSet &mset, int no_data) {
    res->estimated = mset.get_matches_estimated();
    res->lower = mset.get_matches_lower_bound();
    res->upper = mset.get_matches_upper_bound();
    res->m = static_cast<cxs_xmatch *>(
        std::calloc(mset.size() ? mset.size() : 1, sizeof(cxs_xmatch)));
    if (!res->m)
        throw std::bad_alloc();
    for (Xapian::MSetIterator it = mset.begin(); it != mset.end(); ++it) {
        cxs_xmatch *m = &res->m[res->n];
        m->docid = *it;
        m->weight = it.get_weight();
        if (!no_data) {
            std::string data = it.get_document().get_data();
            m->data = dup_str(data);
            m->data_len = data.size();
        }
        res->n++;
    }
}

bool any_remote(const cxs_xdb *db) {
    for (const cxs_xshard &s : db->shards)
        if (s.remote)
            return true;
    return false;
}

cxs_status search(cxs_xdb *db, const cxs_qnode *q, const cxs_xsearch_opts *o,
                  cxs_xresult *res) {
    /* The spies outlive the enquire that borrows them, whatever throws. */
    std::vector<std::unique_ptr<Xapian::ValueCountMatchSpy>> owned;
    std::vector<Xapian::ValueCountMatchSpy *> spies;
    for (size_t i = 0; i < o->nfacets; i++) {
        owned.emplace_back(new Xapian::ValueCountMatchSpy(o->facet_slots[i]));
        spies.push_back(owned.back().get());
    }
    Xapian::Enquire enq(db->db);
    Xapian::Query query = to_query(q);
    /* xapian-tcpsrv cannot run a posting source of ours: with remote
     * shards there is no recency boost (docs/scale-out.md). */
    if (o->recency_boost > 0 && o->recency_halflife > 0 && !any_remote(db)) {
        /* The source owns itself once released to the query. */
        RecencySource *src = new RecencySource(o->time_slot, o->recency_boost,
                                               o->recency_halflife, o->now);
        query = Xapian::Query(Xapian::Query::OP_AND_MAYBE, query,
                              Xapian::Query(src->release()));
    }
    enq.set_query(query);
    enq.set_weighting_scheme(Xapian::BM25Weight(
        o->k1 > 0 ? o->k1 : 1, o->k2 > 0 ? o->k2 : 0, o->k3 > 0 ? o->k3 : 1,
        o->b > 0 ? o->b : 0.5, o->min_normlen > 0 ? o->min_normlen : 0.5));
    if (o->sort_slot >= 0)
        enq.set_sort_by_value_then_relevance((Xapian::valueno)o->sort_slot,
                                             o->sort_desc != 0);
    /* With remote shards, the spies also count again some of the
     * documents the servers send back for the page (Xapian 1.4): facets
     * are then counted by a second match that asks for no documents. */
    bool apart = !spies.empty() && any_remote(db);
    for (size_t i = 0; i < spies.size() && !apart; i++)
        enq.add_matchspy(spies[i]);
    /* Facets count the whole result set, not just the page. Otherwise a
     * few hundred matches are counted exactly (cheap, and small result
     * sets then get exact totals); beyond that Xapian estimates. */
    Xapian::doccount all = db->db.get_doccount();
    Xapian::doccount check =
        o->nfacets && !apart
            ? all
            : (Xapian::doccount)(o->offset + o->limit + CHECK_AT_LEAST);
    Xapian::MSet mset = enq.get_mset(o->offset, o->limit, check);
    if (apart) {
        for (Xapian::ValueCountMatchSpy *spy : spies)
            enq.add_matchspy(spy);
        Xapian::MSet counted = enq.get_mset(0, 0, all);
        fill_matches(res, mset, o->no_data);
        res->estimated = counted.get_matches_estimated();
        res->lower = counted.get_matches_lower_bound();
        res->upper = counted.get_matches_upper_bound();
        fill_facets(res, spies, o);
        return CXS_OK;
    }
    fill_matches(res, mset, o->no_data);
    fill_facets(res, spies, o);
    return CXS_OK;
}

double mono_now() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A local database's identity: its stub file when it has one
 * (xapian-replicate switches a replica to a fresh copy by renaming a new
 * stub over the old), else its folder. */
std::pair<dev_t, ino_t> folder_id(const std::string &path) {
    struct stat st;
    std::string stub = path + "/XAPIANDB";
    if (stat(stub.c_str(), &st) != 0 && stat(path.c_str(), &st) != 0)
        return {0, 0};
    return {st.st_dev, st.st_ino};
}

bool starts(const std::string &s, const char *p) {
    return s.compare(0, std::strlen(p), p) == 0;
}

bool is_remote(const std::string &spec) {
    return starts(spec, "tcp://") || starts(spec, "ssh://") ||
           starts(spec, "prog:");
}

/* Where a remote shard is served: host and port for tcp://HOST:PORT, else
 * a program and its arguments (ssh://HOST/PATH runs xapian-progsrv on
 * HOST through ssh; prog:PROGRAM ARGS runs any command speaking Xapian's
 * remote protocol on its stdin and stdout). */
struct remote_at {
    std::string host, prog, args;
    unsigned port = 0;
};

remote_at parse_remote(const std::string &spec, bool writable) {
    remote_at r;
    auto bad = [&](const char *why) {
        return Xapian::InvalidArgumentError("shard " + spec + ": " + why);
    };
    if (starts(spec, "tcp://")) {
        std::string hp = spec.substr(6);
        size_t colon = hp.rfind(':');
        char *end = nullptr;
        unsigned long port = colon == std::string::npos
                                 ? 0
                                 : std::strtoul(hp.c_str() + colon + 1, &end,
                                                10);
        if (!port || port > 65535 || !end || *end || colon == 0)
            throw bad("expected tcp://HOST:PORT");
        r.host = hp.substr(0, colon);
        if (r.host.size() > 2 && r.host.front() == '[' && r.host.back() == ']')
            r.host = r.host.substr(1, r.host.size() - 2);
        r.port = (unsigned)port;
    } else if (starts(spec, "ssh://")) {
        std::string hp = spec.substr(6);
        size_t slash = hp.find('/');
        if (slash == 0 || slash == std::string::npos || slash + 1 == hp.size())
            throw bad("expected ssh://HOST/PATH");
        /* No shell on this side: arguments are split at spaces, so the
         * path must not hold any. BatchMode: never wait for a password. */
        r.prog = "ssh";
        r.args = "-o BatchMode=yes " + hp.substr(0, slash) +
                 " xapian-progsrv " + (writable ? "--writable " : "") +
                 hp.substr(slash);
    } else {
        std::string cmd = spec.substr(5);
        size_t sp = cmd.find(' ');
        r.prog = cmd.substr(0, sp);
        r.args = sp == std::string::npos ? "" : cmd.substr(sp + 1);
        if (r.prog.empty())
            throw bad("expected prog:PROGRAM ARGS");
    }
    return r;
}

Xapian::Database open_remote(const std::string &spec, const cxs_xdb_opts &o) {
    remote_at r = parse_remote(spec, false);
    if (!r.host.empty())
        return Xapian::Remote::open(r.host, r.port, o.timeout_ms,
                                    o.connect_timeout_ms);
    return Xapian::Remote::open(r.prog, r.args, o.timeout_ms);
}

/* A shard's revision: Xapian's own for a local database; the remote
 * backend has none, so there the commit count cxs_xwdb_commit keeps in
 * the shard's metadata stands in (one round trip). */
unsigned long long read_rev(const Xapian::Database &d) {
    try {
        return d.get_revision();
    } catch (const Xapian::UnimplementedError &) {
    }
    return std::strtoull(d.get_metadata(CXS_XMETA_COMMITS).c_str(), nullptr,
                         10);
}

/* (Re)opens one shard; throws when it cannot. */
void connect_shard(const cxs_xdb *db, cxs_xshard &s) {
    s.id = s.remote ? std::pair<dev_t, ino_t>{0, 0} : folder_id(s.spec);
    Xapian::Database d =
        s.remote ? open_remote(s.spec, db->opts) : Xapian::Database(s.spec);
    s.rev = read_rev(d);
    s.db = d;
    s.up = true;
    s.error.clear();
}

/* A shard that does not answer is replaced by an empty database rather
 * than dropped: the others keep their place, so the document ids Xapian
 * interleaves over the shards stay the same, even within a request. */
void mark_down(const cxs_xdb *db, cxs_xshard &s, const std::string &why) {
    s.up = false;
    s.error = why;
    s.db = Xapian::Database(std::string(), Xapian::DB_BACKEND_INMEMORY);
    s.retry_at = mono_now() + db->opts.retry_ms / 1000.0;
}

/* Connects a remote shard; a failure marks it down. */
bool try_connect(const cxs_xdb *db, cxs_xshard &s) {
    try {
        connect_shard(db, s);
        return true;
    } catch (const Xapian::InvalidArgumentError &) {
        throw; /* a malformed address is the configuration's fault */
    } catch (const Xapian::Error &e) {
        mark_down(db, s, std::string(e.get_type()) + ": " + e.get_msg());
    }
    return false;
}

void combine(cxs_xdb *db) {
    Xapian::Database all;
    for (const cxs_xshard &s : db->shards)
        all.add_database(s.db);
    db->db = all;
}

/* After a network error every remote connection may have stopped
 * mid-message: all are opened afresh, those that do not answer are down. */
void reconnect_remote(cxs_xdb *db) {
    for (cxs_xshard &s : db->shards)
        if (s.remote)
            try_connect(db, s);
    combine(db);
}

/* OK when the reader may answer: every shard is up, or with partial
 * answers at least one; else CXS_ERR_UNAVAILABLE naming the shards down. */
cxs_status shards_usable(const cxs_xdb *db, cxs_err *err) {
    size_t up = 0;
    std::string down;
    for (const cxs_xshard &s : db->shards) {
        if (s.up) {
            up++;
            continue;
        }
        down += (down.empty() ? "" : "; ") + s.spec + " (" + s.error + ")";
    }
    if (down.empty() || (db->opts.partial && up))
        return CXS_OK;
    return fail(err, CXS_ERR_UNAVAILABLE,
                (up ? "shard down: " : "every shard is down: ") + down);
}

/* Like guard, but reopens the reader and tries again once when the
 * revision it was reading was overwritten by a writer, and reconnects
 * the remote shards and tries again once after a network error (with
 * partial answers, without the shards that stay down). */
template <typename F> cxs_status guard_read(cxs_xdb *db, cxs_err *err, F fn) {
    return guard(err, [&]() -> cxs_status {
        cxs_status st = shards_usable(db, err);
        if (st != CXS_OK)
            return st;
        try {
            return fn();
        } catch (const Xapian::DatabaseModifiedError &) {
            db->db.reopen();
            return fn();
        } catch (const Xapian::NetworkError &) {
            reconnect_remote(db);
            st = shards_usable(db, err);
            return st != CXS_OK ? st : fn();
        }
    });
}

/* Moves one shard to its newest revision; true when it changed. *rebuilt
 * is set when the shard's database object was replaced. */
bool reopen_shard(cxs_xdb *db, cxs_xshard &s, double now, bool *rebuilt) {
    if (!s.remote && s.id != folder_id(s.spec)) {
        connect_shard(db, s);
        return *rebuilt = true;
    }
    if (!s.up)
        return now >= s.retry_at && (*rebuilt = try_connect(db, s));
    unsigned long long before = s.rev;
    try {
        if (s.db.reopen() || !s.remote)
            s.rev = read_rev(s.db);
    } catch (const Xapian::NetworkError &) {
        *rebuilt = true;
        try_connect(db, s);
        return true;
    }
    return s.rev != before;
}

} // namespace

extern "C" {

void cxs_xdb_opts_init(cxs_xdb_opts *o) {
    std::memset(o, 0, sizeof *o);
    o->connect_timeout_ms = 2000;
    o->timeout_ms = 10000;
    o->retry_ms = 1000;
}

cxs_status cxs_xdb_open_opts(const char *const *paths, size_t npaths,
                             const cxs_xdb_opts *opts, cxs_xdb **out,
                             cxs_err *err) {
    *out = nullptr;
    if (npaths == 0)
        return cxs_err_set(err, CXS_ERR_INVALID, "no index path given");
    return guard(err, [&]() -> cxs_status {
        cxs_xdb *db = new cxs_xdb;
        try {
            if (opts)
                db->opts = *opts;
            else
                cxs_xdb_opts_init(&db->opts);
            db->shards.resize(npaths);
            for (size_t i = 0; i < npaths; i++) {
                cxs_xshard &s = db->shards[i];
                s.spec = paths[i];
                s.remote = is_remote(s.spec);
                /* A local shard must open; a remote one may be down now
                 * and come back later. */
                if (s.remote)
                    try_connect(db, s);
                else
                    connect_shard(db, s);
            }
            combine(db);
        } catch (...) {
            delete db;
            throw;
        }
        *out = db;
        return CXS_OK;
    });
}

cxs_status cxs_xdb_open(const char *const *paths, size_t npaths, cxs_xdb **out,
                        cxs_err *err) {
    return cxs_xdb_open_opts(paths, npaths, nullptr, out, err);
}

void cxs_xdb_close(cxs_xdb *db) {
    try {
        delete db;
    } catch (...) {
    }
}

cxs_status cxs_xdb_reopen(cxs_xdb *db, int *changed, cxs_err *err) {
    return guard(err, [&]() -> cxs_status {
        /* The shards' revisions tell a real change; reopen()'s own answer
         * may be true without one. */
        bool c = false, rebuilt = false;
        double now = mono_now();
        for (cxs_xshard &s : db->shards)
            c = reopen_shard(db, s, now, &rebuilt) || c;
        if (rebuilt)
            combine(db);
        if (changed)
            *changed = c;
        return CXS_OK;
    });
}

cxs_status cxs_xdb_info_get(cxs_xdb *db, cxs_xdb_info *info, cxs_err *err) {
    return guard_read(db, err, [&]() -> cxs_status {
        info->doccount = db->db.get_doccount();
        info->avlength = db->db.get_avlength();
        /* Xapian 1.4 gives revisions per shard only; their sum grows on
         * every commit to any shard, which is all callers need. A shard
         * that is down counts with its last revision, so the sum does not
         * go back. */
        info->revision = 0;
        for (const cxs_xshard &s : db->shards)
            info->revision += s.rev;
        return CXS_OK;
    });
}

size_t cxs_xdb_nshards(const cxs_xdb *db) {
    return db->shards.size();
}

cxs_status cxs_xdb_shard_metadata(cxs_xdb *db, size_t i, const char *key,
                                  cxs_buf *out, cxs_err *err) {
    return guard(err, [&]() -> cxs_status {
        cxs_xshard &s = db->shards[i];
        std::string v;
        try {
            v = s.db.get_metadata(key);
        } catch (const Xapian::NetworkError &) {
            try_connect(db, s); /* the connection is spent either way */
            combine(db);
        }
        return cxs_buf_append(out, v.data(), v.size());
    });
}

static void shard_status(const cxs_xshard &s, cxs_xshard_status *st) {
    std::memset(st, 0, sizeof *st);
    st->spec = s.spec.c_str();
    st->up = s.up;
    st->remote = s.remote;
    st->revision = s.rev;
    try {
        st->doccount = s.up ? s.db.get_doccount() : 0;
    } catch (...) {
    }
    std::snprintf(st->error, sizeof st->error, "%s", s.error.c_str());
}

void cxs_xdb_shard_status(const cxs_xdb *db, size_t i, cxs_xshard_status *st) {
    shard_status(db->shards[i], st);
}

cxs_status cxs_xdb_shard_probe(cxs_xdb *db, size_t i, cxs_xshard_status *st,
                               cxs_err *err) {
    return guard(err, [&]() -> cxs_status {
        cxs_xshard &s = db->shards[i];
        double t0 = mono_now();
        bool rebuilt = false;
        if (!s.up && t0 >= s.retry_at)
            rebuilt = try_connect(db, s);
        else if (s.up && s.remote) {
            try {
                (void)s.db.get_metadata(CXS_XMETA_COMMITS); /* a round trip */
            } catch (const Xapian::NetworkError &) {
                try_connect(db, s); /* the connection is spent either way */
                rebuilt = true;
            }
        }
        if (rebuilt)
            combine(db);
        shard_status(s, st);
        st->latency_ms = s.up ? (mono_now() - t0) * 1000.0 : 0;
        return CXS_OK;
    });
}

cxs_status cxs_xdb_find(cxs_xdb *db, const char *term, size_t len,
                        unsigned *docid, cxs_err *err) {
    return guard_read(db, err, [&]() -> cxs_status {
        std::string t(term, len);
        Xapian::PostingIterator it = db->db.postlist_begin(t);
        if (it == db->db.postlist_end(t))
            return cxs_err_set(err, CXS_ERR_NOT_FOUND, "no such document");
        *docid = *it;
        return CXS_OK;
    });
}

cxs_status cxs_xdb_termfreq(cxs_xdb *db, const char *term, size_t len,
                            unsigned long long *freq, cxs_err *err) {
    return guard_read(db, err, [&]() -> cxs_status {
        *freq = db->db.get_termfreq(std::string(term, len));
        return CXS_OK;
    });
}

cxs_status cxs_xdb_data(cxs_xdb *db, unsigned docid, cxs_buf *out,
                        cxs_err *err) {
    return guard_read(db, err, [&]() -> cxs_status {
        std::string data = db->db.get_document(docid).get_data();
        return cxs_buf_append(out, data.data(), data.size());
    });
}

cxs_status cxs_xdb_metadata(cxs_xdb *db, const char *key, cxs_buf *out,
                            cxs_err *err) {
    return guard_read(db, err, [&]() -> cxs_status {
        std::string v = db->db.get_metadata(key);
        return cxs_buf_append(out, v.data(), v.size());
    });
}

cxs_status cxs_xdb_search(cxs_xdb *db, const cxs_qnode *q,
                          const cxs_xsearch_opts *opts, cxs_xresult *res,
                          cxs_err *err) {
    std::memset(res, 0, sizeof *res);
    return guard_read(db, err, [&]() -> cxs_status {
        cxs_xresult_release(res); /* a retry starts afresh */
        return search(db, q, opts, res);
    });
}

void cxs_xresult_release(cxs_xresult *res) {
    if (!res)
        return;
    for (size_t i = 0; i < res->n; i++)
        std::free(res->m[i].data);
    std::free(res->m);
    for (size_t i = 0; i < res->nfacets; i++) {
        for (size_t j = 0; j < res->facets[i].n; j++)
            std::free(res->facets[i].v[j].value);
        std::free(res->facets[i].v);
    }
    std::free(res->facets);
    std::memset(res, 0, sizeof *res);
}

cxs_status cxs_xdb_terms(cxs_xdb *db, const char *prefix, size_t len,
                         cxs_xterm_fn fn, void *ud, cxs_err *err) {
    return guard_read(db, err, [&]() -> cxs_status {
        std::string p(prefix, len);
        for (Xapian::TermIterator t = db->db.allterms_begin(p);
             t != db->db.allterms_end(p); ++t) {
            std::string term = *t;
            if (fn(ud, term.data(), term.size(), t.get_termfreq()))
                break;
        }
        return CXS_OK;
    });
}

cxs_status cxs_xdb_doc_terms(cxs_xdb *db, unsigned docid, cxs_xterm_fn fn,
                             void *ud, cxs_err *err) {
    return guard_read(db, err, [&]() -> cxs_status {
        for (Xapian::TermIterator t = db->db.termlist_begin(docid);
             t != db->db.termlist_end(docid); ++t) {
            std::string term = *t;
            if (fn(ud, term.data(), term.size(), t.get_wdf()))
                break;
        }
        return CXS_OK;
    });
}

static cxs_status sorted_positions(std::vector<cxs_xpos> &v, cxs_xpos **pos,
                                   size_t *npos) {
    if (v.empty())
        return CXS_OK;
    std::sort(v.begin(), v.end(), [](const cxs_xpos &a, const cxs_xpos &b) {
        return a.pos < b.pos;
    });
    *pos = static_cast<cxs_xpos *>(std::malloc(v.size() * sizeof(cxs_xpos)));
    if (!*pos)
        throw std::bad_alloc();
    std::memcpy(*pos, v.data(), v.size() * sizeof(cxs_xpos));
    *npos = v.size();
    return CXS_OK;
}

cxs_status cxs_xdb_doc_positions(cxs_xdb *db, unsigned docid,
                                 char *const *terms, size_t n,
                                 unsigned char *present, unsigned *wdf,
                                 cxs_xpos **pos, size_t *npos, cxs_err *err) {
    *pos = nullptr;
    *npos = 0;
    std::memset(present, 0, n);
    if (wdf)
        std::memset(wdf, 0, n * sizeof *wdf);
    return guard_read(db, err, [&]() -> cxs_status {
        std::vector<cxs_xpos> v;
        Xapian::TermIterator t = db->db.termlist_begin(docid);
        Xapian::TermIterator end = db->db.termlist_end(docid);
        for (size_t i = 0; i < n && t != end; i++) {
            t.skip_to(terms[i]);
            if (t == end || *t != terms[i])
                continue;
            Xapian::termcount placed = 0;
            for (Xapian::PositionIterator p = t.positionlist_begin();
                 p != t.positionlist_end(); ++p, ++placed)
                v.push_back(cxs_xpos{*p, (unsigned)i});
            Xapian::termcount count = t.get_wdf();
            present[i] = CXS_XPRESENT | (count > placed ? CXS_XUNPLACED : 0u);
            if (wdf)
                wdf[i] = (unsigned)count;
        }
        return sorted_positions(v, pos, npos);
    });
}

/* True when document docid lives on a remote shard (Xapian interleaves
 * document ids over the shards). */
static bool remote_doc(const cxs_xdb *db, unsigned docid) {
    size_t n = db->shards.size();
    return n && docid && db->shards[(docid - 1) % n].remote;
}

/* Positions of terms through the document's term list: one request for
 * the list, then one per term the document holds, where looking each
 * term up costs one request per term (held or not). */
static void positions_by_termlist(cxs_xdb *db, unsigned docid,
                                  char *const *terms, size_t n,
                                  std::vector<cxs_xpos> &v) {
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return std::strcmp(terms[a], terms[b]) < 0;
    });
    Xapian::TermIterator t = db->db.termlist_begin(docid);
    Xapian::TermIterator end = db->db.termlist_end(docid);
    for (size_t k = 0; k < n && t != end; k++) {
        t.skip_to(terms[order[k]]);
        if (t == end || *t != terms[order[k]])
            continue;
        for (Xapian::PositionIterator p = t.positionlist_begin();
             p != t.positionlist_end(); ++p)
            v.push_back(cxs_xpos{*p, (unsigned)order[k]});
    }
}

cxs_status cxs_xdb_term_positions(cxs_xdb *db, unsigned docid,
                                  char *const *terms, size_t n, cxs_xpos **pos,
                                  size_t *npos, cxs_err *err) {
    *pos = nullptr;
    *npos = 0;
    return guard_read(db, err, [&]() -> cxs_status {
        std::vector<cxs_xpos> v;
        if (n > 2 && remote_doc(db, docid))
            positions_by_termlist(db, docid, terms, n, v);
        else
            for (size_t i = 0; i < n; i++)
                for (Xapian::PositionIterator p =
                         db->db.positionlist_begin(docid, terms[i]);
                     p != db->db.positionlist_end(docid, terms[i]); ++p)
                    v.push_back(cxs_xpos{*p, (unsigned)i});
        return sorted_positions(v, pos, npos);
    });
}

namespace {
/* Keeps the caller's choice of terms, and only terms other documents
 * share: a term found in this document alone weighs most in the ESet of a
 * one-document RSet, yet can find nothing similar. */
class SkipDecider : public Xapian::ExpandDecider {
  public:
    SkipDecider(const Xapian::Database &db, int (*skip)(const char *, size_t))
        : db_(db), skip_(skip) {
    }
    bool operator()(const std::string &term) const override {
        if (skip_ && skip_(term.data(), term.size()))
            return false;
        return db_.get_termfreq(term) >= 2;
    }

  private:
    const Xapian::Database &db_;
    int (*skip_)(const char *, size_t);
};
} // namespace

cxs_status cxs_xdb_expand(cxs_xdb *db, unsigned docid, size_t nterms,
                          int (*skip)(const char *term, size_t len),
                          cxs_xterm_fn fn, void *ud, cxs_err *err) {
    return guard_read(db, err, [&]() -> cxs_status {
        Xapian::Enquire enq(db->db);
        Xapian::RSet rset;
        rset.add_document(docid);
        SkipDecider decider(db->db, skip);
        /* Exact term frequencies: over several shards Xapian otherwise
         * estimates them, and similar posts would differ from one index
         * holding the same posts. */
        Xapian::ESet eset = enq.get_eset(
            nterms, rset, Xapian::Enquire::USE_EXACT_TERMFREQ, &decider);
        for (Xapian::ESetIterator it = eset.begin(); it != eset.end(); ++it) {
            std::string term = *it;
            double w = it.get_weight() * 1000.0;
            if (fn(ud, term.data(), term.size(),
                   (unsigned long long)(w > 0 ? w : 0)))
                break;
        }
        return CXS_OK;
    });
}

cxs_status cxs_xwdb_open_opts(const char *path, const cxs_xdb_opts *opts,
                              cxs_xwdb **out, cxs_err *err) {
    *out = nullptr;
    return guard(err, [&]() -> cxs_status {
        cxs_xdb_opts o;
        if (opts)
            o = *opts;
        else
            cxs_xdb_opts_init(&o);
        cxs_xwdb *w = new cxs_xwdb;
        try {
            std::string spec(path);
            if (!is_remote(spec))
                w->db = Xapian::WritableDatabase(spec, Xapian::DB_CREATE_OR_OPEN);
            else {
                remote_at r = parse_remote(spec, true);
                w->db = r.host.empty()
                            ? Xapian::Remote::open_writable(r.prog, r.args,
                                                            o.timeout_ms)
                            : Xapian::Remote::open_writable(
                                  r.host, r.port, o.timeout_ms,
                                  o.connect_timeout_ms);
            }
        } catch (...) {
            delete w;
            throw;
        }
        *out = w;
        return CXS_OK;
    });
}

cxs_status cxs_xwdb_open(const char *path, cxs_xwdb **out, cxs_err *err) {
    return cxs_xwdb_open_opts(path, nullptr, out, err);
}

void cxs_xwdb_close(cxs_xwdb *w) {
    if (!w)
        return;
    try {
        /* An open transaction is cancelled, not committed: an interrupted
         * import must leave the last committed batch. */
        if (w->in_txn)
            w->db.cancel_transaction();
        w->db.close();
    } catch (...) {
    }
    delete w;
}

namespace {
void begin(cxs_xwdb *w) {
    if (!w->in_txn) {
        w->db.begin_transaction(true);
        w->in_txn = true;
    }
}
} // namespace

cxs_xdoc *cxs_xdoc_new(void) {
    try {
        return new cxs_xdoc;
    } catch (...) {
        return nullptr;
    }
}

void cxs_xdoc_free(cxs_xdoc *d) {
    delete d;
}

cxs_status cxs_xdoc_posting(cxs_xdoc *d, const char *term, size_t len,
                            unsigned pos, unsigned wdfinc) {
    return guard(nullptr, [&]() -> cxs_status {
        d->doc.add_posting(std::string(term, len), pos, wdfinc);
        return CXS_OK;
    });
}

cxs_status cxs_xdoc_term(cxs_xdoc *d, const char *term, size_t len,
                         unsigned wdfinc) {
    return guard(nullptr, [&]() -> cxs_status {
        if (wdfinc)
            d->doc.add_term(std::string(term, len), wdfinc);
        else
            d->doc.add_boolean_term(std::string(term, len));
        return CXS_OK;
    });
}

cxs_status cxs_xdoc_value(cxs_xdoc *d, unsigned slot, const char *s,
                          size_t len) {
    return guard(nullptr, [&]() -> cxs_status {
        d->doc.add_value(slot, std::string(s, len));
        return CXS_OK;
    });
}

cxs_status cxs_xdoc_value_number(cxs_xdoc *d, unsigned slot, double v) {
    return guard(nullptr, [&]() -> cxs_status {
        d->doc.add_value(slot, Xapian::sortable_serialise(v));
        return CXS_OK;
    });
}

cxs_status cxs_xdoc_data(cxs_xdoc *d, const char *s, size_t len) {
    return guard(nullptr, [&]() -> cxs_status {
        d->doc.set_data(std::string(s, len));
        return CXS_OK;
    });
}

cxs_status cxs_xwdb_replace(cxs_xwdb *w, const char *idterm, size_t len,
                            cxs_xdoc *d, cxs_err *err) {
    return guard(err, [&]() -> cxs_status {
        begin(w);
        w->db.replace_document(std::string(idterm, len), d->doc);
        return CXS_OK;
    });
}

cxs_status cxs_xwdb_add(cxs_xwdb *w, cxs_xdoc *d, cxs_err *err) {
    return guard(err, [&]() -> cxs_status {
        begin(w);
        w->db.add_document(d->doc);
        return CXS_OK;
    });
}

cxs_status cxs_xwdb_delete(cxs_xwdb *w, const char *idterm, size_t len,
                           int *existed, cxs_err *err) {
    return guard(err, [&]() -> cxs_status {
        std::string t(idterm, len);
        bool had = w->db.term_exists(t);
        if (existed)
            *existed = had;
        if (had) {
            begin(w);
            w->db.delete_document(t);
        }
        return CXS_OK;
    });
}

cxs_status cxs_xwdb_has(cxs_xwdb *w, const char *term, size_t len,
                        int *found, cxs_err *err) {
    return guard(err, [&]() -> cxs_status {
        *found = w->db.term_exists(std::string(term, len));
        return CXS_OK;
    });
}

cxs_status cxs_xwdb_find_data(cxs_xwdb *w, const char *idterm, size_t len,
                              cxs_buf *out, int *found, cxs_err *err) {
    return guard(err, [&]() -> cxs_status {
        std::string t(idterm, len);
        Xapian::PostingIterator it = w->db.postlist_begin(t);
        *found = it != w->db.postlist_end(t);
        if (!*found)
            return CXS_OK;
        std::string data = w->db.get_document(*it).get_data();
        return cxs_buf_append(out, data.data(), data.size());
    });
}

cxs_status cxs_xdb_compact(const char *const *paths, size_t n, const char *dest,
                           cxs_err *err) {
    return guard(err, [&]() -> cxs_status {
        Xapian::Database db;
        for (size_t i = 0; i < n; i++)
            db.add_database(Xapian::Database(paths[i]));
        db.compact(dest);
        return CXS_OK;
    });
}

cxs_status cxs_xwdb_metadata(cxs_xwdb *w, const char *key, cxs_buf *out,
                             cxs_err *err) {
    return guard(err, [&]() -> cxs_status {
        std::string v = w->db.get_metadata(key);
        return cxs_buf_append(out, v.data(), v.size());
    });
}

cxs_status cxs_xwdb_set_metadata(cxs_xwdb *w, const char *key,
                                 const char *value, cxs_err *err) {
    return guard(err, [&]() -> cxs_status {
        begin(w);
        w->db.set_metadata(key, value);
        return CXS_OK;
    });
}

cxs_status cxs_xwdb_commit(cxs_xwdb *w, cxs_err *err) {
    return guard(err, [&]() -> cxs_status {
        if (w->in_txn) {
            /* Readers of a remote shard cannot read its revision: they
             * read this count instead (read_rev). */
            unsigned long long n = std::strtoull(
                w->db.get_metadata(CXS_XMETA_COMMITS).c_str(), nullptr, 10);
            w->db.set_metadata(CXS_XMETA_COMMITS, std::to_string(n + 1));
            w->db.commit_transaction();
            w->in_txn = false;
        }
        return CXS_OK;
    });
}

unsigned long long cxs_xwdb_revision(cxs_xwdb *w) {
    try {
        return w->db.get_revision();
    } catch (...) {
        return 0;
    }
}

unsigned long long cxs_xwdb_doccount(cxs_xwdb *w) {
    try {
        return w->db.get_doccount();
    } catch (...) {
        return 0;
    }
}

} /* extern "C" */
