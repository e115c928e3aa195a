# crisisflow's image: `crisis api` (the default), `crisis worker` and `crisis db upgrade`; see
# docker-compose.yml. `docker run -p 8000:8000 -p 8233:8233 IMAGE dev` runs the embedded stack.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/crisisflow
WORKDIR /src
COPY pyproject.toml README.md ./
COPY activities activities
COPY api api
COPY cli cli
COPY channels channels
COPY domain domain
COPY store store
COPY services services
COPY workflows workflows
COPY worker.py devstack.py settings.py ./
RUN /opt/crisisflow/bin/pip install .
# The project's bytecode, valid whatever the copy below does to file times (unchecked-hash; -f
# replaces pip's timestamp-checked files). The image runs with PYTHONDONTWRITEBYTECODE=1 as a user
# who cannot write here, and Temporal's sandbox imports workflows/incident.py afresh for every
# incident it runs or replays: without a .pyc it would compile the module again each time
# (docs/operations.md, "Bytecode in the image"; tests/ops/test_bytecode.py runs this line).
RUN cd "$(/opt/crisisflow/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" \
 && /opt/crisisflow/bin/python -m compileall -q -f --invalidation-mode unchecked-hash \
    workflows activities domain services channels store api cli worker.py devstack.py settings.py

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 --user-group crisis && mkdir -p /data && chown crisis:crisis /data
COPY --from=build /opt/crisisflow /opt/crisisflow
COPY playbooks /app/playbooks
WORKDIR /app
ENV PATH=/opt/crisisflow/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CRISIS_PLAYBOOKS_DIR=/app/playbooks \
    CRISIS_DATA_DIR=/data \
    CRISIS_API_HOST=0.0.0.0 \
    CRISIS_TEMPORAL_HOST=0.0.0.0
USER crisis
EXPOSE 8000 9464
ENTRYPOINT ["crisis"]
CMD ["api"]
