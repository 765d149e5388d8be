# o2c-gateway runtime image: the package and its runtime dependencies, no tests, no dev tools.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    O2C_PARTNERS_DIR=/app/partners \
    O2C_MAPPINGS_DIR=/app/mappings

RUN useradd --create-home --uid 10001 --user-group o2c
WORKDIR /app

COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY adapters ./adapters
RUN pip install .

# Data directories are found through Settings (O2C_PARTNERS_DIR, O2C_MAPPINGS_DIR), not the wheel.
COPY mappings ./mappings
COPY partners ./partners

USER o2c
# 8080: HTTP API, UI and /healthz; 2222: the hosted SFTP server.
EXPOSE 8080 2222
# The slim image has no curl: ask /healthz with the standard library (any error exits non-zero).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
CMD ["o2c", "serve"]
