# syntax=docker/dockerfile:1
# The learners' (single-user) image for the z2jh chart's singleuser.image.
#
#   docker build -f deploy/images/singleuser.Dockerfile -t REGISTRY/kynangso/singleuser:TAG .
#
# Built from the checkout's root. It must hold no exam source (hidden tests, answer keys): every
# learner's server reads this image. singleuser.Dockerfile.dockerignore keeps assessments/exams out
# of the build context, and the last stage takes only the installed environment from the build
# stage, so no layer of the image ever held the checkout (docs/security.md).

FROM python:3.11-slim-bookworm AS build
ENV VENV=/opt/kynangso/venv
# Exactly the frozen list, as `make install` does: --no-deps, the two left-out packages removed
# (Makefile LEFT_OUT), then pip check.
COPY requirements.lock /tmp/requirements.lock
RUN python -m venv "$VENV" \
 && "$VENV/bin/pip" install --no-cache-dir --no-deps -r /tmp/requirements.lock \
 && ("$VENV/bin/pip" uninstall -y rfc3987-syntax lark || true) \
 && "$VENV/bin/pip" check
# The project itself (not editable); pyproject.toml excludes assessments.exams as well.
COPY pyproject.toml README.md /src/
COPY kynangso /src/kynangso
COPY sandbox /src/sandbox
COPY assessments /src/assessments
COPY reports /src/reports
COPY courses /src/courses
RUN "$VENV/bin/pip" install --no-cache-dir --no-deps /src

FROM python:3.11-slim-bookworm
# Fonts with Vietnamese glyphs (generated PDFs), espeak-ng (read-aloud in the lessons).
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core fonts-liberation espeak-ng \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/kynangso/venv /opt/kynangso/venv
# The chart's singleuser.uid / fsGid (1000 / 100); the home is the user's volume.
RUN useradd --uid 1000 --gid 100 --create-home --home-dir /home/jovyan --shell /usr/sbin/nologin jovyan
ENV PATH=/opt/kynangso/venv/bin:/usr/local/bin:/usr/bin:/bin \
    LANG=C.UTF-8 \
    HOME=/home/jovyan
USER 1000
WORKDIR /home/jovyan
CMD ["kns-singleuser"]
