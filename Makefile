# SPDX-License-Identifier: ISC
# labwatch: one non-recursive Makefile.  `make`, `make check`, `make demo`,
# `make bench`, `make SANITIZE=1`, `make install`.

VERSION	= 0.1.0
CC	?= cc
PREFIX	?= /usr/local
B	= build

# libudev and libpcap for the agent, libcrypto for QUIC Initial keys,
# libsystemd for sd_notify (readiness and the watchdog).
PKGS	= libevent libevent_openssl libudev libpcap libssl libcrypto libsystemd
CFLAGS	?= -O2 -g
CFLAGS	+= -std=gnu11 -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes \
	   -Wstrict-prototypes -Wpointer-arith -Wcast-qual -Wvla \
	   -Wno-missing-field-initializers -fno-strict-aliasing -D_GNU_SOURCE \
	   -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
	   -DLABWATCH_VERSION=\"$(VERSION)\" -Icommon \
	   $(shell pkg-config --cflags $(PKGS))
LDLIBS	+= $(shell pkg-config --libs $(PKGS))
# librdkafka for the collector's Kafka output (collector/fwd_kafka.c) only.
RDKAFKA_LIBS = $(shell pkg-config --libs rdkafka)
ifdef CI
CFLAGS	+= -Werror
endif
ifdef SANITIZE
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined
LDFLAGS	+= -fsanitize=address,undefined
endif

COMMON_SRCS = common/log.c common/xmalloc.c common/buf.c \
	common/record.c common/escape.c common/format.c common/wire.c common/wire_ev.c \
	common/hostname.c common/num.c common/addr.c common/privdrop.c \
	common/cidr.c common/tls.c common/lockfile.c common/hostpat.c \
	common/opts.c common/conffile.c common/readfile.c common/service.c \
	common/spool.c common/hash.c
AGENT_SRCS = agent/agent.c agent/options.c agent/uplink.c agent/sysinfo.c \
	agent/usb.c agent/usbid.c agent/mounts.c agent/mountinfo.c \
	agent/fanwatch.c agent/fanmerge.c \
	agent/capture.c agent/net.c agent/netdev.c agent/statedir.c \
	agent/enroll.c agent/privsep.c agent/sandbox.c agent/health.c \
	agent/live.c agent/rtnl.c agent/command.c \
	$(NET_SRCS)
# The pure network modules, linked by their unit tests and fuzzers too.
NET_SRCS = agent/decode.c agent/conv.c agent/names.c agent/quic.c \
	agent/pcapfile.c \
	agent/communityid.c
COLLECTOR_SRCS = collector/collector.c collector/options.c \
	collector/listener.c \
	collector/session.c collector/hostlog.c collector/recover.c \
	collector/state.c collector/syncer.c collector/peerlimit.c \
	collector/enroll.c collector/hoststat.c collector/control.c \
	collector/metrics.c collector/alert.c collector/alertrule.c \
	collector/hostnet.c collector/wake.c collector/forward.c \
	collector/fwd_syslog.c collector/rfc5424.c collector/ecs.c \
	collector/fwd_kafka.c collector/lab.c \
	collector/index.c collector/indexdb.c collector/index_schema.c \
	collector/logline.c \
	collector/http.c collector/api.c collector/live.c collector/json.c \
	collector/users.c collector/reader.c collector/www.c \
	collector/cookie.c

COMMON_OBJS	= $(COMMON_SRCS:%.c=$(B)/%.o)
AGENT_OBJS	= $(AGENT_SRCS:%.c=$(B)/%.o)
COLLECTOR_OBJS	= $(COLLECTOR_SRCS:%.c=$(B)/%.o)

UNIT_TESTS	= test_wire test_escape test_format test_hostname test_num \
		  test_rbuf test_recover test_spool test_usbid test_mountinfo \
		  test_fanmerge test_cidr test_decode test_conv test_names \
		  test_hostpat test_communityid test_pcapfile test_conffile \
		  test_alertrule test_addr test_ecs test_rfc5424 test_fwd_kafka \
		  test_logline test_json test_users test_cookie test_hash
# Objects beyond common/ that a unit test links: TEST_OBJS_<name>.
NET_OBJS	= $(NET_SRCS:%.c=$(B)/%.o)
TEST_OBJS_recover = $(B)/collector/recover.o $(B)/collector/state.o
TEST_OBJS_alertrule = $(B)/collector/alertrule.o
TEST_OBJS_ecs = $(B)/collector/ecs.o
TEST_OBJS_rfc5424 = $(B)/collector/rfc5424.o
TEST_OBJS_logline = $(B)/collector/logline.o
TEST_OBJS_json = $(B)/collector/json.o
TEST_OBJS_users = $(B)/collector/users.o
TEST_OBJS_cookie = $(B)/collector/cookie.o
$(B)/tests/test_users: LDLIBS += -lcrypt
TEST_OBJS_hostpat = $(B)/collector/enroll.o $(B)/collector/peerlimit.o
TEST_OBJS_usbid = $(B)/agent/usbid.o
TEST_OBJS_mountinfo = $(B)/agent/mountinfo.o
TEST_OBJS_fanmerge = $(B)/agent/fanmerge.o $(B)/agent/usbid.o
TEST_OBJS_decode = $(NET_OBJS)
TEST_OBJS_conv = $(NET_OBJS)
TEST_OBJS_names = $(NET_OBJS)
TEST_OBJS_communityid = $(B)/agent/communityid.o
TEST_OBJS_pcapfile = $(B)/agent/pcapfile.o
UNIT_BINS	= $(UNIT_TESTS:%=$(B)/tests/%)
FUZZERS		= fuzz_wire fuzz_usbid fuzz_mountinfo fuzz_decode fuzz_pcapfile \
		  fuzz_conffile fuzz_cidr fuzz_recover fuzz_spool fuzz_netdev \
		  fuzz_options fuzz_session fuzz_uplink fuzz_logline fuzz_json
FUZZ_SECONDS	?= 60

all: $(B)/labwatch-agent $(B)/labwatch-collector

$(B)/%.o: %.c $(wildcard common/*.h agent/*.h collector/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/labwatch-agent: $(AGENT_OBJS) $(COMMON_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs libseccomp)

# The dashboard's page, script and style sheet are assembled into www.o.
$(B)/collector/www.o: $(wildcard collector/www/*)

$(B)/labwatch-collector: $(COLLECTOR_OBJS) $(COMMON_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(RDKAFKA_LIBS) -lpthread -lcrypt \
	    $(shell pkg-config --libs sqlite3)

# Writes what the option tables document (scripts/update-options).
$(B)/optdoc: scripts/optdoc.c $(B)/agent/options.o $(B)/collector/options.o \
    $(COMMON_OBJS)
	$(CC) $(CFLAGS) -Iagent -Icollector $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Regenerates the sample configuration files and the manual pages' option
# lists from the option tables; the tests check they are up to date.
options: $(B)/optdoc
	B=$(B) scripts/update-options

# Unit tests link their module and common/ (cmocka).
.SECONDEXPANSION:
$(B)/tests/test_%: tests/unit/test_%.c $(COMMON_OBJS) $$(TEST_OBJS_$$*)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Icollector -Iagent $(LDFLAGS) -o $@ $^ $(LDLIBS) \
	    $(shell pkg-config --libs cmocka)

# The Kafka output against librdkafka's mock cluster; the test includes
# the driver's file to reach its producer.
$(B)/tests/test_fwd_kafka: tests/unit/test_fwd_kafka.c collector/fwd_kafka.c \
    collector/forward.h $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Icollector $(LDFLAGS) -o $@ $< $(COMMON_OBJS) \
	    $(LDLIBS) $(RDKAFKA_LIBS) $(shell pkg-config --libs cmocka)

# libFuzzer harnesses (clang): `make fuzz` builds them and runs each for
# FUZZ_SECONDS from its seed corpus (tests/fuzz/corpus/NAME, new finds
# go to $(B)/fuzz/corpus/NAME); `make check` runs each over its seeds.
FUZZ_CFLAGS = -g -O1 -std=gnu11 -D_GNU_SOURCE -Icommon -Itests/fuzz \
	-DLABWATCH_VERSION=\"$(VERSION)\" -fsanitize=fuzzer,address,undefined
$(B)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzzfile.h $(COMMON_SRCS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) $(LDLIBS)
$(B)/fuzz/fuzz_decode: tests/fuzz/fuzz_decode.c $(COMMON_SRCS) $(NET_SRCS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -Iagent -o $@ $(filter %.c,$^) $(LDLIBS)

$(B)/fuzz/fuzz_usbid: agent/usbid.c
$(B)/fuzz/fuzz_mountinfo: agent/mountinfo.c
$(B)/fuzz/fuzz_pcapfile: agent/pcapfile.c
$(B)/fuzz/fuzz_recover: collector/recover.c collector/state.c
$(B)/fuzz/fuzz_logline: collector/logline.c
$(B)/fuzz/fuzz_netdev: agent/netdev.c
$(B)/fuzz/fuzz_options: collector/enroll.c collector/peerlimit.c
$(B)/fuzz/fuzz_json: collector/json.c
# The session state machine with the modules it writes through.
$(B)/fuzz/fuzz_session: collector/session.c collector/hostlog.c \
    collector/recover.c collector/state.c collector/syncer.c \
    collector/peerlimit.c collector/enroll.c collector/hostnet.c \
    collector/wake.c collector/hoststat.c collector/alert.c \
    collector/alertrule.c collector/metrics.c collector/forward.c \
    collector/fwd_syslog.c collector/rfc5424.c collector/ecs.c \
    collector/fwd_kafka.c collector/lab.c \
    collector/index.c collector/indexdb.c collector/index_schema.c \
    collector/logline.c collector/live.c tests/fuzz/fuzzlink.h
# The agent's link with its spool and commands (the harness is the collector).
$(B)/fuzz/fuzz_uplink: agent/uplink.c agent/command.c \
    tests/fuzz/fuzzlink.h
$(B)/fuzz/fuzz_usbid $(B)/fuzz/fuzz_mountinfo $(B)/fuzz/fuzz_pcapfile \
	$(B)/fuzz/fuzz_spool $(B)/fuzz/fuzz_netdev \
	$(B)/fuzz/fuzz_uplink: FUZZ_CFLAGS += -Iagent
$(B)/fuzz/fuzz_recover $(B)/fuzz/fuzz_options \
	$(B)/fuzz/fuzz_session $(B)/fuzz/fuzz_logline \
	$(B)/fuzz/fuzz_json: FUZZ_CFLAGS += -Icollector
$(B)/fuzz/fuzz_netdev: FUZZ_CFLAGS += '-DOUI_PATH=getenv("LW_FUZZ_OUI")'
# libevent, OpenSSL and (for common/service.c) libsystemd; not the
# agent's capture and device libraries.
$(B)/fuzz/fuzz_session $(B)/fuzz/fuzz_uplink: LDLIBS = \
	$(shell pkg-config --libs libevent libevent_openssl libssl libcrypto \
	    libsystemd)
$(B)/fuzz/fuzz_session: LDLIBS += $(RDKAFKA_LIBS) $(shell pkg-config --libs sqlite3) -lpthread

fuzzers: $(FUZZERS:%=$(B)/fuzz/%)

fuzz: fuzzers
	@for f in $(FUZZERS); do \
		mkdir -p $(B)/fuzz/corpus/$$f; \
		echo "$$f: $(FUZZ_SECONDS) s"; \
		$(B)/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
		    -artifact_prefix=$(B)/fuzz/$$f- $(B)/fuzz/corpus/$$f \
		    tests/fuzz/corpus/$$f 2>$(B)/fuzz/$$f.log || \
		    { tail -40 $(B)/fuzz/$$f.log; exit 1; }; \
		grep -E '^#[0-9]+.*DONE' $(B)/fuzz/$$f.log | tail -1; \
	done

# Installs what the build and tests need, builds, runs every test: the
# plain build, the fuzzers over their seeds, and the unit, replay and
# options tests again built with ASan and UBSan into build-san.
check:
	@scripts/install-deps
	@$(MAKE) --no-print-directory all tests fuzzers
	@$(MAKE) --no-print-directory B=build-san SANITIZE=1 all tests
	@SAN_B=build-san tests/run-tests

tests: $(UNIT_BINS) $(B)/tests/lw-load $(B)/tests/lw-kafka-mock \
    $(B)/tests/lw-index-fill $(B)/optdoc

# The load generator for `make bench` (tests/tools/lw-load.c).
$(B)/tests/lw-load: tests/tools/lw-load.c $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# librdkafka's mock cluster for the Kafka output's integration test.
$(B)/tests/lw-kafka-mock: tests/tools/lw-kafka-mock.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(RDKAFKA_LIBS)

# Fills a collector index with synthetic records (benches of its readers).
$(B)/tests/lw-index-fill: tests/tools/lw-index-fill.c $(B)/collector/indexdb.o \
    $(B)/collector/index_schema.o $(B)/collector/logline.o $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Icollector $(LDFLAGS) -o $@ $^ $(LDLIBS) \
	    $(shell pkg-config --libs sqlite3)

# Speed and memory, not tests: scripts/bench runs every tests/bench/* and
# prints its figures (peers side by side, medians and ratios).
bench:
	@scripts/install-deps
	@$(MAKE) --no-print-directory all tests
	@B=$(B) scripts/bench

demo:
	@scripts/install-deps
	@$(MAKE) --no-print-directory all
	@scripts/demo

# Where `make install` puts things; DESTDIR for staging (debian/rules).
SBINDIR		?= $(PREFIX)/sbin
MANDIR		?= $(PREFIX)/share/man
LIBEXECDIR	?= $(PREFIX)/lib/labwatch
SYSCONFDIR	?= /etc
UNITDIR		?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR	?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR	?= $(PREFIX)/lib/tmpfiles.d
# udev reads /etc and /lib only; a package puts the rule in /lib/udev.
UDEVRULESDIR	?= $(SYSCONFDIR)/udev/rules.d
ETC		= $(DESTDIR)$(SYSCONFDIR)
NOTIFIERS	= $(wildcard scripts/notify/notify-*)

# A configuration file is installed only where none is: an admin's stays.
define install_conf
	install -d $(dir $(2))
	[ -e $(2) ] || install -m 644 $(1) $(2)
endef

# $(call install_service,DIR/NAME): the unit (with SBINDIR in place), the
# sysusers.d and tmpfiles.d entries of labwatch-agent or -collector.
define install_service
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@SBINDIR@|$(SBINDIR)|g' $(1).service.in \
	    >$(DESTDIR)$(UNITDIR)/$(notdir $(1)).service
	chmod 644 $(DESTDIR)$(UNITDIR)/$(notdir $(1)).service
	install -D -m 644 $(1).sysusers \
	    $(DESTDIR)$(SYSUSERSDIR)/$(notdir $(1)).conf
	install -D -m 644 $(1).tmpfiles \
	    $(DESTDIR)$(TMPFILESDIR)/$(notdir $(1)).conf
endef

install: install-agent install-collector

install-agent: $(B)/labwatch-agent
	install -D -m 755 $(B)/labwatch-agent $(DESTDIR)$(SBINDIR)/labwatch-agent
	install -D -m 644 agent/labwatch-agent.8 \
	    $(DESTDIR)$(MANDIR)/man8/labwatch-agent.8
	install -D -m 644 common/labwatch.conf.5 \
	    $(DESTDIR)$(MANDIR)/man5/labwatch.conf.5
	install -D -m 644 common/labwatch-events.7 \
	    $(DESTDIR)$(MANDIR)/man7/labwatch-events.7
	$(call install_conf,agent/agent.conf,$(ETC)/labwatch/agent.conf)
	$(call install_conf,agent/ip.txt,$(ETC)/labwatch/ip.txt)
	$(call install_conf,udev-rules/90-labwatch.rules,\
	    $(DESTDIR)$(UDEVRULESDIR)/90-labwatch.rules)
	$(call install_service,agent/labwatch-agent)

install-collector: $(B)/labwatch-collector
	install -D -m 755 $(B)/labwatch-collector \
	    $(DESTDIR)$(SBINDIR)/labwatch-collector
	install -D -m 755 scripts/labwatch-ca $(DESTDIR)$(SBINDIR)/labwatch-ca
	install -D -m 755 scripts/labwatchctl $(DESTDIR)$(SBINDIR)/labwatchctl
	install -D -m 644 collector/labwatch-collector.8 \
	    $(DESTDIR)$(MANDIR)/man8/labwatch-collector.8
	install -D -m 644 scripts/labwatchctl.8 \
	    $(DESTDIR)$(MANDIR)/man8/labwatchctl.8
	install -D -m 644 scripts/labwatch-ca.1 \
	    $(DESTDIR)$(MANDIR)/man1/labwatch-ca.1
	install -D -m 644 common/labwatch.conf.5 \
	    $(DESTDIR)$(MANDIR)/man5/labwatch.conf.5
	install -D -m 644 common/labwatch-events.7 \
	    $(DESTDIR)$(MANDIR)/man7/labwatch-events.7
	$(call install_conf,collector/collector.conf,\
	    $(ETC)/labwatch/collector.conf)
	$(call install_conf,collector/labwatch-collector.logrotate,\
	    $(ETC)/logrotate.d/labwatch-collector)
	install -d $(DESTDIR)$(LIBEXECDIR)
	install -m 755 $(NOTIFIERS) $(DESTDIR)$(LIBEXECDIR)/
	$(call install_service,collector/labwatch-collector)

# Removes what `make install` put in place, but configuration an admin
# may have changed: agent.conf, collector.conf, ip.txt, the udev rule and
# the logrotate file stay, as do logs and state.
uninstall:
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,labwatch-agent \
	    labwatch-collector labwatch-ca labwatchctl)
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/,man8/labwatch-agent.8 \
	    man8/labwatch-collector.8 man8/labwatchctl.8 man1/labwatch-ca.1 \
	    man5/labwatch.conf.5 man7/labwatch-events.7)
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,labwatch-agent.service \
	    labwatch-collector.service)
	rm -f $(DESTDIR)$(SYSUSERSDIR)/labwatch-agent.conf \
	    $(DESTDIR)$(SYSUSERSDIR)/labwatch-collector.conf \
	    $(DESTDIR)$(TMPFILESDIR)/labwatch-agent.conf \
	    $(DESTDIR)$(TMPFILESDIR)/labwatch-collector.conf
	rm -f $(addprefix $(DESTDIR)$(LIBEXECDIR)/,$(notdir $(NOTIFIERS)))
	-rmdir $(DESTDIR)$(LIBEXECDIR)

# Debian packages labwatch-agent and labwatch-collector, in build/deb/.
deb:
	@scripts/install-deps
	rm -rf $(B)/deb && mkdir -p $(B)/deb/src
	git ls-files -z --cached --others --exclude-standard | \
	    xargs -0 cp -P --parents -t $(B)/deb/src
	cd $(B)/deb/src && dpkg-buildpackage -b -us -uc
	lintian --fail-on error,warning --info $(B)/deb/*.changes

clean:
	rm -rf $(B) build-san

.PHONY: all check tests fuzz fuzzers demo bench install install-agent \
	install-collector uninstall deb clean options
