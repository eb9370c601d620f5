# cxsearch in a container: a build stage with the -dev packages (the same
# scripts/install-deps and CMake steps CI runs) and a runtime stage with the
# runtime libraries only. cxsearchd runs as a non-root user with the index
# in a volume.
#
#   docker build -t cxsearch .
#   docker run -p 8080:8080 -v cxs-index:/var/lib/cxsearch cxsearch
#   docker run -v cxs-index:/var/lib/cxsearch -v "$PWD/posts:/in:ro" \
#          cxsearch cxsearch index --db /var/lib/cxsearch/index /in
FROM debian:12 AS build
WORKDIR /src
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps
COPY . .
RUN BUILD_DIR=/build scripts/build -DCXS_DATA_DIR=/usr/share/cxsearch \
        -DCXS_WEB_DIR=/usr/share/cxsearch/web -DCXS_CONFIG_DIR=/etc/cxsearch \
        -DBUILD_TESTING=OFF \
    && CXSEARCH_DATA_DIR=/src/stemmers /build/cxsearch index --db /seed-index data/sample

FROM debian:12
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends libxapian30 libicu72 libstemmer0d \
        libmicrohttpd12 libjansson4 libcld2-0 libhunspell-1.7-0 hunspell-ru \
        hunspell-it hunspell-en-us libxml2 libinih1 libcurl4 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/cxsearch --shell /usr/sbin/nologin cxsearch \
    && mkdir -p /var/lib/cxsearch && chown cxsearch /var/lib/cxsearch
COPY --from=build /build/cxsearch /build/cxsearchd /usr/local/bin/
COPY --from=build /src/stemmers/stopwords /usr/share/cxsearch/stopwords
COPY --from=build /src/web /usr/share/cxsearch/web
COPY --from=build /src/config /etc/cxsearch
COPY --from=build --chown=cxsearch /seed-index /var/lib/cxsearch/index
USER cxsearch
VOLUME /var/lib/cxsearch
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/health || exit 1
CMD ["cxsearchd", "--config", "/etc/cxsearch/cxsearch.conf", \
     "--db", "/var/lib/cxsearch/index", "--listen", "0.0.0.0:8080"]
