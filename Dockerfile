# The IKD server as a container: built in one stage, run as a non-root user
# from the installation `ikd install` writes (docs/server.md, "Installing").
#
#   docker build -t ikd .
#   docker run -p 50051:50051 -v ikd-data:/var/lib/ikd ikd
#
# The first start prints an admin token once (docker logs); give services
# their own tokens with `docker run --rm ikd token new --name … --role …`.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --workspace --locked \
 && target/release/ikd install --prefix /opt/ikd

FROM debian:bookworm-slim
RUN useradd --system --home-dir /var/lib/ikd --create-home --uid 10001 ikd
COPY --from=build /opt/ikd /opt/ikd
USER ikd
WORKDIR /var/lib/ikd
VOLUME /var/lib/ikd
EXPOSE 50051
ENV IKD_LOG_FORMAT=json
ENTRYPOINT ["/opt/ikd/bin/ikd"]
CMD ["serve", "--addr", "0.0.0.0:50051", "--data-dir", "/var/lib/ikd"]
