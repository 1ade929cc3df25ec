# syntax=docker/dockerfile:1.7
# FreeSWITCH with mod_sipnats (the sipnats C shim), on top of YOUR FreeSWITCH image.
#
# sipnats ships no FreeSWITCH and builds none: FREESWITCH_IMAGE is the operator's own image
# (Debian-based, FreeSWITCH installed from packages, with its development files: `pkg-config
# freeswitch` must work, e.g. the libfreeswitch-dev package). This recipe compiles libsipnats and
# mod_sipnats against it with Debian's libnats-dev and installs the module and its sample config.
# Build from the repository root:
#   docker build -f deploy/docker/freeswitch.Dockerfile \
#     --build-arg FREESWITCH_IMAGE=registry.example.net/voice/freeswitch:1.10 -t freeswitch-sipnats .
ARG FREESWITCH_IMAGE

FROM ${FREESWITCH_IMAGE} AS build
USER root
RUN test -n "$(command -v apt-get)" || { echo 'FREESWITCH_IMAGE must be Debian-based (apt-get)'; exit 1; } \
 && apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config libnats-dev \
 && rm -rf /var/lib/apt/lists/*
RUN pkg-config --exists freeswitch \
 || { echo 'FREESWITCH_IMAGE lacks the FreeSWITCH development files (pkg-config freeswitch; Debian: libfreeswitch-dev)'; exit 1; }
WORKDIR /src
COPY proto/sipnats.h ./proto/sipnats.h
COPY packages/fs-shim ./packages/fs-shim
# Where FreeSWITCH loads modules from and reads autoload configs (override when pkg-config
# does not say, or your layout differs).
ARG FREESWITCH_MOD_DIR=
ARG FREESWITCH_CONF_DIR=/etc/freeswitch
# Builds and installs into /out; also records the runtime package of libnats (its name carries
# the soname, e.g. libnats3.4) for the runtime stage to install.
RUN set -eu; \
    make -C packages/fs-shim clean; \
    make -C packages/fs-shim all module PREFIX=/usr/local; \
    test -f packages/fs-shim/build/mod_sipnats.so; \
    make -C packages/fs-shim install PREFIX=/usr/local DESTDIR=/out; \
    moddir="${FREESWITCH_MOD_DIR:-$(pkg-config --variable=modulesdir freeswitch)}"; \
    test -n "$moddir" || { echo 'set --build-arg FREESWITCH_MOD_DIR'; exit 1; }; \
    install -D -m 0755 packages/fs-shim/build/mod_sipnats.so "/out${moddir}/mod_sipnats.so"; \
    install -D -m 0644 packages/fs-shim/conf/sipnats.conf.xml "/out${FREESWITCH_CONF_DIR}/autoload_configs/sipnats.conf.xml.sample"; \
    mkdir -p /out/usr/local/share/sipnats; \
    dpkg-query -W -f='${Depends}' libnats-dev | sed -E 's/^([a-z0-9.+-]+).*/\1/' > /out/usr/local/share/sipnats/runtime-packages

FROM ${FREESWITCH_IMAGE} AS runtime
USER root
COPY --from=build /out/ /
RUN apt-get update \
 && apt-get install -y --no-install-recommends $(cat /usr/local/share/sipnats/runtime-packages) \
 && rm -rf /var/lib/apt/lists/* \
 && ldconfig
# Back to the user the base image runs FreeSWITCH as (set it when that is not root).
ARG FREESWITCH_USER=root
USER ${FREESWITCH_USER}
# Enable with <load module="mod_sipnats"/> in modules.conf.xml and copy
# autoload_configs/sipnats.conf.xml.sample to sipnats.conf.xml (NATS user `fsshim`, see deploy/README.md).
