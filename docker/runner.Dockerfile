# perfwatch runner image: the recorder (system under test), the mock cameras, asv and perfwatch.
# One image serves every service of docker/compose.yaml (cameras, recorder, runner, dashboard).
#
# py-spy (flamegraphs of the recorder) reads another process's memory with ptrace: the
# container that runs it needs the SYS_PTRACE capability (compose: cap_add: [SYS_PTRACE]; plain
# docker: `docker run --cap-add SYS_PTRACE ...`) and must see the target's pid namespace
# (compose: pid: "service:recorder").
#
# Build from the repository root:  docker build -f docker/runner.Dockerfile -t perfwatch-runner .
FROM python:3.11-slim-bookworm

LABEL org.opencontainers.image.title="perfwatch-runner" \
      org.opencontainers.image.description="perfwatch benchmark runner with the reference recorder" \
      perfwatch.ptrace="py-spy needs cap_add SYS_PTRACE"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# ffmpeg: the reference remuxer of the CPU benchmark; git: asv walks the history;
# iproute2, util-linux, e2fsprogs: the failure tier's namespaces, mounts and loop filesystems.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg git iproute2 util-linux e2fsprogs \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /perfwatch
COPY pyproject.toml README.md ./
COPY perfwatch ./perfwatch
COPY recorder ./recorder
RUN python -m pip install -e '.[test]' -e ./recorder

COPY . .

EXPOSE 8554 5080 8080
CMD ["perfwatch", "--help"]
