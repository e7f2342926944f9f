# LEXO's image: the API (`lexo serve`) and the workers (`lexo worker`) run from it.
#
#   docker build -t lexo .                       (Docker, BuildKit)
#   podman build --format docker -t lexo .       (Podman; `docker` format keeps HEALTHCHECK)
#
# Models are never baked in: mount ml_models/ read-only at /models (compose.yaml does).
# The host's pip settings reach the build as secrets, never as a layer:
#   --secret id=pip_ca,src=/etc/ssl/certs/ca-certificates.crt   (a CA only the host trusts)
#   --secret id=pip_conf,src=$HOME/.config/pip/pip.conf          (an index of your own)
# What goes into the image (see docs/operations.md, "Containers"):
#   LEXO_EXTRAS    LEXO's extras: `queue` (Celery over Redis). `ml` adds torch, transformers
#                  and sentence-transformers (TrOCR, embeddings without an ONNX export):
#                  ~1 GB on the CPU build, several GB if pip picks PyPI's CUDA torch.
#   LEXO_PACKAGES  more packages: ONNX Runtime for the embeddings `lexo models optimize`
#                  exported, spaCy for the French entities (its model comes from /models).
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ARG LEXO_EXTRAS=queue
ARG LEXO_PACKAGES="onnxruntime>=1.20 tokenizers>=0.19 spacy>=3.8,<3.9"
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
RUN python3 -m venv /opt/lexo
WORKDIR /src
# Dependencies first, in a layer of their own that only pyproject.toml invalidates (a stub
# package stands in for LEXO's sources); then LEXO's wheel, rebuilt in seconds.
COPY pyproject.toml README.md ./
RUN --mount=type=secret,id=pip_ca --mount=type=secret,id=pip_conf \
    --mount=type=cache,target=/root/.cache/pip \
    set -eu; \
    if [ -s /run/secrets/pip_ca ]; then export PIP_CERT=/run/secrets/pip_ca; fi; \
    if [ -s /run/secrets/pip_conf ]; then export PIP_CONFIG_FILE=/run/secrets/pip_conf; fi; \
    mkdir -p src/lexo; echo '__version__ = "0"' >src/lexo/__init__.py; \
    /opt/lexo/bin/pip install --quiet ".${LEXO_EXTRAS:+[$LEXO_EXTRAS]}" $LEXO_PACKAGES; \
    /opt/lexo/bin/pip uninstall --quiet --yes lexo; \
    rm -rf src /opt/lexo/lib/python3*/site-packages/*/tests
COPY src ./src
RUN --mount=type=secret,id=pip_ca --mount=type=secret,id=pip_conf \
    --mount=type=cache,target=/root/.cache/pip \
    set -eu; \
    if [ -s /run/secrets/pip_ca ]; then export PIP_CERT=/run/secrets/pip_ca; fi; \
    if [ -s /run/secrets/pip_conf ]; then export PIP_CONFIG_FILE=/run/secrets/pip_conf; fi; \
    /opt/lexo/bin/pip wheel --quiet --no-deps --wheel-dir /wheels . ; \
    wheel=$(ls /wheels/lexo-*.whl); \
    /opt/lexo/bin/pip install --quiet "${wheel}${LEXO_EXTRAS:+[$LEXO_EXTRAS]}" $LEXO_PACKAGES; \
    /opt/lexo/bin/pip uninstall --quiet --yes pip setuptools wheel 2>/dev/null || true
# (pip, setuptools and wheel leave the venv above: nothing installs at run time.)

FROM ${PYTHON_IMAGE} AS runtime
# Tesseract's French, English and orientation data from Debian; the engine itself is inside
# the tesserocr wheel, so the `tesseract` program (and its ~40 MB of libraries) stays out.
RUN set -eu; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      tesseract-ocr-fra tesseract-ocr-eng tesseract-ocr-osd; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log; \
    useradd --system --uid 10001 --user-group --home-dir /home/lexo --create-home \
      --shell /usr/sbin/nologin lexo; \
    mkdir -p /data /inbox /models; \
    chown lexo:lexo /data /inbox
COPY --from=build /opt/lexo /opt/lexo
COPY --chmod=755 deploy/lexo-container.py /usr/local/bin/lexo-container
# Inside the container the API listens on every interface of its own network namespace;
# compose publishes it on 127.0.0.1 only. A non-loopback bind needs LEXO_API_TOKEN: without
# one `lexo serve` refuses to start, on purpose.
ENV PATH=/opt/lexo/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LEXO_HOST=0.0.0.0 \
    LEXO_PORT=8000 \
    LEXO_DATA_DIR=/data \
    LEXO_INBOX_DIR=/inbox \
    LEXO_MODELS_DIR=/models
USER lexo
WORKDIR /home/lexo
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["lexo-container", "health", "api"]
# `lexo-container wait` first waits for PostgreSQL (and Redis with LEXO_QUEUE=celery) to
# accept connections; with SQLite it runs `lexo` at once.
ENTRYPOINT ["lexo-container", "wait", "lexo"]
CMD ["serve"]
