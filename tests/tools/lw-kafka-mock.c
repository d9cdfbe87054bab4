/* SPDX-License-Identifier: ISC */
/*
 * lw-kafka-mock: librdkafka's own mock cluster for the Kafka output's tests,
 * since no real broker runs here.
 *
 *	lw-kafka-mock [-b brokers] [-p partitions] TOPIC...
 *
 * Starts a mock cluster of -b brokers (3) with each TOPIC in -p partitions
 * (3), the leader of partition p on broker p % brokers + 1, prints
 *
 *	bootstraps 127.0.0.1:PORT,127.0.0.1:PORT,...
 *
 * then consumes the topics from the start and prints each message as
 *
 *	msg TOPIC PARTITION OFFSET KEY ID VALUE
 *
 * (one line, fields separated by a tab; ID is the labwatch_id header; a
 * tab, newline or other control byte in KEY, ID or VALUE is printed as
 * '?', an empty or missing one as "-").  Commands,
 * one a line on standard input, are answered "ok ..." or "error ...":
 *
 *	down ID		broker ID (1..brokers, -1 all) drops its connections
 *			and refuses new ones
 *	up ID		broker ID accepts connections again
 *	errors N	the next N Produce requests fail with a retriable
 *			error (NOT_ENOUGH_REPLICAS)
 *	count		prints "count N", the messages consumed so far
 *
 * End of input stops it.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define LINE_MAX_CMD	256
#define API_PRODUCE	0

static unsigned long	consumed;

static void
usage(void)
{
	fprintf(stderr, "usage: lw-kafka-mock [-b brokers] [-p partitions] "
	    "TOPIC...\n");
	exit(2);
}

static void
print_clean(const void *p, size_t len)
{
	const unsigned char	*s = p;
	size_t			 i;

	if (len == 0) {
		fputc('-', stdout);
		return;
	}
	for (i = 0; i < len; i++)
		fputc(s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i], stdout);
}

static rd_kafka_t *
make_handle(rd_kafka_type_t type, const char *bootstraps)
{
	rd_kafka_conf_t	*conf = rd_kafka_conf_new();
	rd_kafka_t	*rk;
	char		 err[512];

	if (bootstraps != NULL && (rd_kafka_conf_set(conf,
	    "bootstrap.servers", bootstraps, err, sizeof(err)) !=
	    RD_KAFKA_CONF_OK || rd_kafka_conf_set(conf, "group.id",
	    "lw-kafka-mock", err, sizeof(err)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err,
	    sizeof(err)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "enable.partition.eof", "false", err,
	    sizeof(err)) != RD_KAFKA_CONF_OK)) {
		fprintf(stderr, "lw-kafka-mock: %s\n", err);
		exit(1);
	}
	/* The cluster's host handle talks to nobody: no log noise. */
	if (bootstraps == NULL)
		rd_kafka_conf_set(conf, "log_level", "0", err, sizeof(err));
	if ((rk = rd_kafka_new(type, conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "lw-kafka-mock: %s\n", err);
		exit(1);
	}
	return rk;
}

static void
command(rd_kafka_mock_cluster_t *mc, char *line)
{
	rd_kafka_resp_err_t	 e = RD_KAFKA_RESP_ERR_NO_ERROR;
	char			 word[16];
	int			 n, k;

	if (sscanf(line, "%15s %d", word, &n) == 1 &&
	    strcmp(word, "count") == 0) {
		printf("count %lu\n", consumed);
		return;
	}
	if (sscanf(line, "%15s %d", word, &n) != 2) {
		printf("error bad command: %s\n", line);
		return;
	}
	if (strcmp(word, "down") == 0)
		e = rd_kafka_mock_broker_set_down(mc, n);
	else if (strcmp(word, "up") == 0)
		e = rd_kafka_mock_broker_set_up(mc, n);
	else if (strcmp(word, "errors") == 0 && n > 0 && n <= 1000) {
		for (k = 0; k < n; k++)
			rd_kafka_mock_push_request_errors(mc, API_PRODUCE, 1,
			    RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
	} else {
		printf("error bad command: %s\n", line);
		return;
	}
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
		printf("error %s: %s\n", line, rd_kafka_err2str(e));
	else
		printf("ok %s\n", line);
}

static void
consume(rd_kafka_t *c)
{
	rd_kafka_message_t	*m;
	rd_kafka_headers_t	*hdrs;
	const void		*id;
	size_t			 idlen;

	if ((m = rd_kafka_consumer_poll(c, 100)) == NULL)
		return;
	if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		/* Brokers going down are expected: say so on stderr. */
		fprintf(stderr, "lw-kafka-mock: consumer: %s\n",
		    rd_kafka_message_errstr(m));
		rd_kafka_message_destroy(m);
		return;
	}
	consumed++;
	if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR ||
	    rd_kafka_header_get_last(hdrs, "labwatch_id", &id, &idlen) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR)
		idlen = 0;
	printf("msg\t%s\t%d\t%lld\t", rd_kafka_topic_name(m->rkt),
	    (int)m->partition, (long long)m->offset);
	print_clean(m->key, m->key_len);
	fputc('\t', stdout);
	print_clean(id, idlen);
	fputc('\t', stdout);
	print_clean(m->payload, m->len);
	fputc('\n', stdout);
	rd_kafka_message_destroy(m);
}

int
main(int argc, char *argv[])
{
	rd_kafka_t			*host, *c;
	rd_kafka_mock_cluster_t		*mc;
	rd_kafka_topic_partition_list_t	*parts;
	rd_kafka_resp_err_t		 e;
	struct pollfd			 pfd = { .fd = 0, .events = POLLIN };
	char				 in[LINE_MAX_CMD], *nl;
	size_t				 have = 0;
	ssize_t				 n;
	int				 brokers = 3, partitions = 3, ch, p, t;

	while ((ch = getopt(argc, argv, "b:p:")) != -1) {
		switch (ch) {
		case 'b':
			brokers = atoi(optarg);
			break;
		case 'p':
			partitions = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (argc - optind < 1 || brokers < 1 || brokers > 16 ||
	    partitions < 1 || partitions > 64)
		usage();
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);

	host = make_handle(RD_KAFKA_PRODUCER, NULL);
	if ((mc = rd_kafka_mock_cluster_new(host, brokers)) == NULL) {
		fprintf(stderr, "lw-kafka-mock: cannot make the mock "
		    "cluster\n");
		return 1;
	}
	for (t = optind; t < argc; t++) {
		if ((e = rd_kafka_mock_topic_create(mc, argv[t], partitions,
		    brokers < 3 ? brokers : 3)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
			fprintf(stderr, "lw-kafka-mock: topic %s: %s\n",
			    argv[t], rd_kafka_err2str(e));
			return 1;
		}
		for (p = 0; p < partitions; p++)
			rd_kafka_mock_partition_set_leader(mc, argv[t], p,
			    p % brokers + 1);
	}
	printf("bootstraps %s\n", rd_kafka_mock_cluster_bootstraps(mc));

	c = make_handle(RD_KAFKA_CONSUMER, rd_kafka_mock_cluster_bootstraps(mc));
	parts = rd_kafka_topic_partition_list_new(partitions * (argc - optind));
	for (t = optind; t < argc; t++)
		for (p = 0; p < partitions; p++)
			rd_kafka_topic_partition_list_add(parts, argv[t],
			    p)->offset = RD_KAFKA_OFFSET_BEGINNING;
	if ((e = rd_kafka_assign(c, parts)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "lw-kafka-mock: assign: %s\n",
		    rd_kafka_err2str(e));
		return 1;
	}
	rd_kafka_topic_partition_list_destroy(parts);

	for (;;) {
		consume(c);
		if (poll(&pfd, 1, 0) == -1 && errno != EINTR)
			break;
		if (pfd.revents == 0)
			continue;
		/* read(2), not stdio: poll must see every line coming. */
		if ((n = read(0, in + have, sizeof(in) - 1 - have)) <= 0)
			break;
		have += n;
		in[have] = '\0';
		while ((nl = strchr(in, '\n')) != NULL) {
			*nl = '\0';
			command(mc, in);
			have -= nl + 1 - in;
			memmove(in, nl + 1, have + 1);
		}
		if (have == sizeof(in) - 1)
			have = 0;	/* a line too long: dropped */
	}
	rd_kafka_consumer_close(c);
	rd_kafka_destroy(c);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(host);
	return 0;
}
