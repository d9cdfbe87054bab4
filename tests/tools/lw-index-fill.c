/* SPDX-License-Identifier: ISC */
/*
 * lw-index-fill: fills a collector index (collector/indexdb.c, the code the
 * collector's writer thread runs) with synthetic records, for benches of
 * what reads it (the dashboard, searches) and of the writer itself.
 *
 *   lw-index-fill DB RECORDS HOSTS [DEVICES]
 *
 * Records are spread over HOSTS hosts (pc0001, ...) one second apart per
 * host, ending now: flow.lan and flow.internet mostly, usb.add/mount/
 * write/read/remove sessions, net.device for DEVICES LAN devices (default
 * 2,000), agent.start and host.connect for each host.  Prints one line of
 * key=value: records, seconds, records_per_s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "indexdb.h"
#include "log.h"
#include "record.h"

static const char *const names[] = { "www.example.com", "moodle.example.org",
    "cdn.example.net", "mail.example.com", "docs.example.org" };

static void
add(struct indexdb *db, struct record *r, const char *host, uint64_t *n)
{
	r->host = host;
	indexdb_apply(db, host, r);
	if (++*n % INDEX_BATCH_MAX == 0) {
		indexdb_commit(db);
		indexdb_begin(db);
	}
}

int
main(int argc, char *argv[])
{
	struct indexdb	*db;
	struct record	 r;
	struct timespec	 t0, t1;
	char		 host[32], s[128], sess[32], did[32];
	long long	 records, hosts, devices = 2000, i, h, k;
	int64_t		 now = record_now(), ts;
	uint64_t	 n = 0;
	double		 secs;

	if (argc < 4 || argc > 5 || (records = atoll(argv[2])) <= 0 ||
	    (hosts = atoll(argv[3])) <= 0 ||
	    (argc == 5 && (devices = atoll(argv[4])) <= 0)) {
		fprintf(stderr, "usage: lw-index-fill DB RECORDS HOSTS "
		    "[DEVICES]\n");
		return 2;
	}
	log_init("lw-index-fill", 1, 0);
	if ((db = indexdb_open(argv[1])) == NULL)
		return 1;
	record_init(&r);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	indexdb_begin(db);
	for (h = 0; h < hosts; h++) {
		snprintf(host, sizeof(host), "pc%04lld", h + 1);
		record_begin(&r, "host.connect");
		r.ts_us = now - (records / hosts + 10) * 1000000LL;
		snprintf(s, sizeof(s), "10.0.%lld.%lld:40000", h / 250, h % 250);
		record_add_str(&r, "peer", s);
		record_add_str(&r, "identity", host);
		add(db, &r, host, &n);
		record_begin(&r, "agent.start");
		r.ts_us += 1000;
		r.seq = 1;
		record_add_str(&r, "version", "0.1.0");
		record_add_list(&r, "interfaces");
		snprintf(s, sizeof(s), "eth0 10.0.%lld.%lld/16", h / 250,
		    h % 250);
		record_list_add(&r, s, strlen(s));
		add(db, &r, host, &n);
	}
	for (i = 0; n < (uint64_t)records; i++) {
		h = i % hosts;
		k = i / hosts;
		snprintf(host, sizeof(host), "pc%04lld", h + 1);
		ts = now - (records / hosts - k) * 1000000LL + h;
		switch (i % 100) {
		case 0:
			record_begin(&r, "net.device");
			snprintf(s, sizeof(s), "02:00:5e:%02llx:%02llx:%02llx",
			    (i / 100 % devices) >> 16 & 0xff,
			    (i / 100 % devices) >> 8 & 0xff,
			    (i / 100 % devices) & 0xff);
			record_add_str(&r, "mac", s);
			snprintf(s, sizeof(s), "10.1.%lld.%lld",
			    (i / 100 % devices) / 250, (i / 100 % devices) % 250);
			record_add_str(&r, "ip", s);
			record_add_str(&r, "vendor", "Example Devices Ltd");
			break;
		case 1: case 2: case 3: case 4: case 5:
			snprintf(did, sizeof(did), "%016llx", (h * 7 + k / 50) %
			    (hosts * 2));
			snprintf(sess, sizeof(sess), "%016llx",
			    (unsigned long long)(h << 32 | k / 50));
			record_begin(&r, (const char *[]){ "usb.add",
			    "usb.mount", "usb.write", "usb.read",
			    "usb.remove" }[i % 100 - 1]);
			if (i % 100 == 3 || i % 100 == 4) {
				snprintf(s, sizeof(s), "/media/stick/exam-%lld"
				    ".docx", k);
				record_add_str(&r, "path", s);
				record_add_int(&r, "size", 10000 + k % 5000);
			}
			record_add_str(&r, "device_id", did);
			record_add_str(&r, "vendor_id", "0781");
			record_add_str(&r, "product_id", "5567");
			record_add_str(&r, "serial", did);
			record_add_str(&r, "usb_session", sess);
			if (i % 100 == 2) {
				record_add_str(&r, "fs_uuid", did);
				record_add_str(&r, "fs_label", "STICK");
			}
			break;
		default:
			record_begin(&r, i % 3 ? "flow.internet" : "flow.lan");
			record_add_str(&r, "proto", "tcp");
			snprintf(s, sizeof(s), "10.0.%lld.%lld", h / 250,
			    h % 250);
			record_add_str(&r, "src", s);
			record_add_str(&r, "dst", "203.0.113.10");
			record_add_int(&r, "dport", 443);
			if (i % 3)
				record_add_str(&r, "name",
				    names[i % (sizeof(names) / sizeof(names[0]))]);
			record_add_int(&r, "bytes_out", 1000 + i % 9000);
			record_add_int(&r, "bytes_in", 50000 + i % 90000);
			record_add_bool(&r, "final", 1);
			break;
		}
		r.ts_us = ts;
		r.seq = (uint64_t)k + 2;
		add(db, &r, host, &n);
	}
	indexdb_commit(db);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec -
	    t0.tv_nsec) / 1e9;
	printf("records=%llu seconds=%.2f records_per_s=%.0f\n",
	    (unsigned long long)n, secs, (double)n / secs);
	record_free(&r);
	indexdb_close(db);
	return 0;
}
