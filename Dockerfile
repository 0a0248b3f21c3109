# CORS Lab in containers: one image holding all the lab's binaries, for the three services of
# docker-compose.yml (see docs/docker.md).
#
#   docker compose up                  # builds this image on first use
#   docker build -t cors-lab .         # or build it by hand
#   docker run --rm -p 127.0.0.1:8080:8080 -p 127.0.0.1:8081:8081 -p 127.0.0.1:9090:9090 cors-lab
#                                      # the whole lab in one container (the `cors-lab` launcher)
#
# Stage 1 builds the workspace's binaries once; stage 2 is a small runtime image with nothing but
# them. The base images are build arguments so that a machine without access to an image
# registry can substitute its own builds of the same two images (scripts/docker-test.sh does):
# BUILDER_IMAGE needs cargo, a C linker (cc) and CA certificates; RUNTIME_IMAGE only glibc (it
# needs no shell: the healthcheck is the image's own `lab-health` binary).
ARG BUILDER_IMAGE=rust:1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${BUILDER_IMAGE} AS build
WORKDIR /src
# Only what the build reads, so edits to docs or scripts keep the cached build layer.
# origin-server embeds static/ (rust-embed) and templates/ (askama) at compile time.
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY crates ./crates
COPY static ./static
COPY templates ./templates
# The binaries only: the browser test harness (a dev-dependency) is not built. The build
# output is removed in the same step: only /out is used, and the layer stays small.
ENV CARGO_PROFILE_RELEASE_STRIP=symbols \
    CARGO_TERM_COLOR=never
RUN cargo build --release --locked --bins \
        -p cors-lab -p api-server -p origin-server -p lab-process \
 && mkdir -p /out \
 && cp target/release/cors-lab target/release/api-server target/release/origin-server \
       target/release/lab-health /out/ \
 && rm -rf target

FROM ${RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="CORS Lab" \
      org.opencontainers.image.description="A teaching lab for CORS: api-server, origin-server, the cors-lab launcher and lab-health"
COPY --from=build /out/ /usr/local/bin/
# Inside a container the servers must listen on all interfaces; the browser-visible URLs
# (LAB_TRUSTED_ORIGIN, LAB_API_URL, …) keep their host defaults. origin-server's
# LAB_ORIGIN_LISTEN depends on its role and is set by docker-compose.yml.
ENV LAB_TRUSTED_LISTEN=0.0.0.0:8080 \
    LAB_UNTRUSTED_LISTEN=0.0.0.0:8081 \
    LAB_API_LISTEN=0.0.0.0:9090
# Any unprivileged id: the servers write no files and use ports above 1024.
USER 10001:10001
EXPOSE 8080 8081 9090
# Exec form: the server is PID 1 and receives `docker stop`'s SIGTERM itself; it finishes
# in-flight requests and exits 0 (lab_process::shutdown_signal).
STOPSIGNAL SIGTERM
CMD ["cors-lab"]
