# syntax=docker/dockerfile:1
#
# atoms-mock in a container:
#   docker build -t atoms-mock .
#   docker run --rm -p 4010:4010 atoms-mock
#   docker run --rm -p 4010:4010 atoms-mock --clock virtual --seed 1
# Arguments replace the default CMD; host and port still come from the
# ATOMS_MOCK_HOST / ATOMS_MOCK_PORT defaults below.

FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
# Cache mounts keep the registry and build artifacts between builds
# (BuildKit); the binary is copied out of the cached target directory.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
    && install -D -m 0755 target/release/atoms-mock /out/atoms-mock

FROM debian:bookworm-slim AS runtime
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin atoms
COPY --from=builder /out/atoms-mock /usr/local/bin/atoms-mock
USER atoms
ENV ATOMS_MOCK_HOST=0.0.0.0 \
    ATOMS_MOCK_PORT=4010
EXPOSE 4010
STOPSIGNAL SIGTERM
ENTRYPOINT ["atoms-mock"]
CMD ["--host", "0.0.0.0", "--port", "4010"]
