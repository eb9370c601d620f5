"""Synthetic posts for the reliability tests (crash, load): deterministic,
written for these tests, in the post format of post.h. Russian, Italian
and English texts of 20-120 words from small CX vocabularies, so queries
match many posts and snippets have work to do."""
import random

WORDS = {
    "ru": "клиент опыт сервис команда продукт исследование метрика отзыв "
          "путь поддержка качество ожидание решение доверие звонок оператор "
          "жалоба интервью анкета сегмент".split(),
    "it": "cliente esperienza servizio squadra prodotto ricerca misura "
          "opinione percorso supporto qualità attesa soluzione fiducia "
          "chiamata reclamo intervista questionario".split(),
    "en": "customer journey service team product research metric feedback "
          "support quality expectation solution trust call complaint "
          "interview survey segment churn".split(),
}


def make_posts(n, prefix="crash", start=0, seed=8):
    """n posts with unique ids prefix/start.. in order."""
    r = random.Random(seed)
    posts = []
    for i in range(start, start + n):
        lang = ("ru", "it", "en")[i % 3]
        text = " ".join(r.choice(WORDS[lang])
                        for _ in range(r.randint(20, 120)))
        posts.append({"id": "%s/%d" % (prefix, i), "channel": "ch%d" % (i % 7),
                      "lang": lang,
                      "date": "2024-%02d-%02dT10:00:00Z" % (1 + i % 12,
                                                          1 + i % 28),
                      "text": "Post %d: %s" % (i, text),
                      "tags": ["t%d" % (i % 5)]})
    return posts
