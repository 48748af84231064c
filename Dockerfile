# Image for the Enkryptify fetch-secrets GitHub container action and GitLab CI/CD component.
#
# BASE_IMAGE must be a Debian-like image whose `python3` is CPython >= 3.11 with the venv module.
# The default is the official slim image; the tests build on a local debootstrap image instead
# (scripts/setup-podman.sh), which is why every command below says `python3`, never `python`.
ARG BASE_IMAGE=python:3.12-slim-bookworm

# ---------------------------------------------------------------------------------------------------
# builder: resolve nothing, install only what the hash-locked requirements name.
FROM ${BASE_IMAGE} AS builder

# Optional CA bundle for pip, for builds behind a TLS-intercepting proxy. Pass the *path* of a bundle
# that the build mounts in, e.g. `podman build --volume /etc/ssl/certs/ca-certificates.crt:/run/host-ca.pem:ro
# --build-arg PIP_CERT=/run/host-ca.pem`. Unset by default; nothing of the bundle lands in any layer.
ARG PIP_CERT
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_DEFAULT_TIMEOUT=120 \
    PYTHONDONTWRITEBYTECODE=1

# The runtime venv is created without pip: the build venv's pip installs into it (`--python`).
RUN python3 -m venv --without-pip /opt/venv \
 && python3 -m venv /opt/build

# Build backend, hash-locked (see requirements/build.in); only used to build our wheel below.
COPY requirements/build.txt /src/requirements/build.txt
RUN /opt/build/bin/pip install --require-hashes --no-deps --only-binary=:all: \
        -r /src/requirements/build.txt

# Runtime dependencies, hash-locked (see requirements/runtime.in); own layer so it caches across
# source changes.
COPY requirements/runtime.txt /src/requirements/runtime.txt
RUN /opt/build/bin/pip --python /opt/venv/bin/python3 install --require-hashes --no-deps \
        --only-binary=:all: -r /src/requirements/runtime.txt

# The project itself (the build context is an allowlist, see .dockerignore).
COPY . /src
RUN /opt/build/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /tmp/dist /src \
 && /opt/build/bin/pip --python /opt/venv/bin/python3 install --no-deps --no-index /tmp/dist/*.whl

# ---------------------------------------------------------------------------------------------------
# final: the same base plus the venv and the entry point; no pip cache, no build venv, no compilers.
FROM ${BASE_IMAGE}

ARG VERSION=1.0.0
LABEL org.opencontainers.image.title="enkryptify-fetch-secrets" \
      org.opencontainers.image.description="Fetch Enkryptify secrets into CI: GitHub Action, GitLab CI/CD component and CLI." \
      org.opencontainers.image.source="https://github.com/enkryptify/fetch-secrets" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT"

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH

COPY --from=builder /opt/venv /opt/venv
COPY entrypoint.py /app/entrypoint.py

# No USER switch on purpose: GitHub runs container actions as the image's default user and mounts the
# runner's file-command directory (/github/file_commands) and workspace owned by the runner's user; the
# docs require the default (root) user so the action can write GITHUB_ENV / GITHUB_OUTPUT there.
ENTRYPOINT ["python3", "/app/entrypoint.py"]
