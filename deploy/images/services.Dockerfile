# syntax=docker/dockerfile:1
# The image of the hub (the z2jh chart's hub.image) and of the platform services' Deployments
# (deploy/kubernetes/services/): the same environment as the learners' image, plus hub_config/,
# the grading sandbox (bubblewrap) and the exam course's source for the grader.
#
#   docker build -f deploy/images/services.Dockerfile -t REGISTRY/kynangso/services:TAG .
#
# Built from the checkout's root (services.Dockerfile.dockerignore). Never use it as the
# learners' image: it holds the exam course.

FROM python:3.11-slim-bookworm AS build
ENV VENV=/opt/kynangso/venv
# Exactly the frozen list, as `make install` does: --no-deps, the two left-out packages removed
# (Makefile LEFT_OUT), then pip check.
COPY requirements.lock /tmp/requirements.lock
RUN python -m venv "$VENV" \
 && "$VENV/bin/pip" install --no-cache-dir --no-deps -r /tmp/requirements.lock \
 && ("$VENV/bin/pip" uninstall -y rfc3987-syntax lark || true) \
 && "$VENV/bin/pip" check
COPY pyproject.toml README.md /src/
COPY kynangso /src/kynangso
COPY sandbox /src/sandbox
COPY assessments /src/assessments
COPY reports /src/reports
COPY courses /src/courses
RUN "$VENV/bin/pip" install --no-cache-dir --no-deps /src

FROM python:3.11-slim-bookworm
# Fonts (reports' PDFs), bubblewrap and uidmap (the grading sandbox); pycurl's wheel bundles
# its own libcurl.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core fonts-liberation bubblewrap uidmap \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/kynangso/venv /opt/kynangso/venv
# One account per process kind, as on one machine (docs/security.md); the pods run as these uids
# (deploy/kubernetes/services/). 1000 is the hub's (the chart's hub.containerSecurityContext).
# Groups: 1200 the exchange (grader and desk), 1201 the gradebook (grader and reports).
RUN groupadd --gid 1200 kns-grp-exchange && groupadd --gid 1201 kns-grp-gradebooks \
 && useradd --uid 1000 --user-group --home-dir /srv/jupyterhub --create-home --shell /usr/sbin/nologin jupyterhub \
 && useradd --uid 1100 --user-group --groups 1200,1201 --no-create-home --shell /usr/sbin/nologin kns-grader \
 && useradd --uid 1101 --user-group --no-create-home --shell /usr/sbin/nologin kns-svc-progress \
 && useradd --uid 1102 --user-group --no-create-home --shell /usr/sbin/nologin kns-svc-signing \
 && useradd --uid 1103 --user-group --groups 1201 --no-create-home --shell /usr/sbin/nologin kns-svc-reports \
 && useradd --uid 1104 --user-group --no-create-home --shell /usr/sbin/nologin kns-svc-admin \
 && useradd --uid 1105 --user-group --groups 1200 --no-create-home --shell /usr/sbin/nologin kns-svc-exams
COPY hub_config /opt/kynangso/hub_config
# The exam course's source, the grader's alone (exams.course_source in settings.yaml).
COPY --chown=1100:1100 --chmod=0700 assessments/exams /opt/kynangso/exams-source
ENV PATH=/opt/kynangso/venv/bin:/usr/local/bin:/usr/bin:/bin \
    LANG=C.UTF-8
WORKDIR /srv/jupyterhub
USER 1000
CMD ["jupyterhub", "--config", "/usr/local/etc/jupyterhub/jupyterhub_config.py"]
