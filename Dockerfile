# syntax=docker/dockerfile:1
# The urlguard image: one static binary (musl) on distroless, as non-root.
#   docker build -t ghcr.io/urlguard/urlguard:0.1.0 .
# Built natively per platform (`docker buildx build --platform
# linux/amd64,linux/arm64` runs this builder once per architecture).

FROM docker.io/library/rust:1.95-bookworm AS builder
# musl-gcc: aws-lc-sys (rustls' crypto) compiles C for the musl target.
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/*
RUN rustup target add "$(uname -m)-unknown-linux-musl"
WORKDIR /src
# The whole workspace: Cargo resolves every member (the test crates too)
# even when it builds only the binary.
COPY . .
RUN cargo build --release --locked --bin urlguard --target "$(uname -m)-unknown-linux-musl" \
 && cp "target/$(uname -m)-unknown-linux-musl/release/urlguard" /urlguard \
 && /urlguard --version

# No shell, no package manager, no libc: only the binary and CA certificates
# (for the AWS endpoints); the nonroot variant's user is 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=builder /urlguard /urlguard
USER 65532:65532
ENTRYPOINT ["/urlguard"]
