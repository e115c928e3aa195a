FROM python:3.11-slim

RUN useradd --create-home --uid 10001 crisis
WORKDIR /app
COPY pyproject.toml README.md ./
COPY activities activities
COPY api api
COPY channels channels
COPY domain domain
COPY store store
COPY workflows workflows
COPY playbooks playbooks
COPY worker.py cli.py devstack.py ./
RUN pip install --no-cache-dir -e . && mkdir -p /data && chown crisis /data

USER crisis
ENV CRISIS_DATA_DIR=/data CRISIS_API_HOST=0.0.0.0 CRISIS_TEMPORAL_HOST=0.0.0.0
EXPOSE 8000 8233
CMD ["crisis", "dev"]
