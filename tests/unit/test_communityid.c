/*
 * Unit tests for Community ID v1 (agent/communityid.c) against the
 * published test vectors of the specification: the tables in
 * baseline/README.md (default seed 0 and seed 1) and flows from
 * baseline/baseline_deflt.json of github.com/corelight/community-id-spec
 * (commit c4ec2bc40d65ddbcbdd642582bf5609797a80772, BSD-3-Clause).  For
 * ICMP the table's "ports" are the packet's type and code.
 */
#include <arpa/inet.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "communityid.h"

struct vector {
	uint16_t	 seed;
	uint8_t		 proto;
	const char	*src, *dst;
	uint16_t	 sport, dport;
	const char	*want;
};

static const char A6[] = "fe80:0001:0203:0405:0607:0809:0A0B:0C0D";
static const char B6[] = "fe80:1011:1213:1415:1617:1819:1A1B:1C1D";

static const struct vector vectors[] = {
	/* baseline/README.md, "Default settings". */
	{ 0, 6, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:wCb3OG7yAFWelaUydu0D+125CLM=" },
	{ 0, 6, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:wCb3OG7yAFWelaUydu0D+125CLM=" },
	{ 0, 17, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=" },
	{ 0, 17, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=" },
	{ 0, 132, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=" },
	{ 0, 132, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=" },
	{ 0, 1, "1.2.3.4", "5.6.7.8", 8, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=" },
	{ 0, 1, "5.6.7.8", "1.2.3.4", 0, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=" },
	{ 0, 1, "1.2.3.4", "5.6.7.8", 11, 0, "1:f/YiSyWqczrTgfUCZlBUnvHRcPk=" },
	{ 0, 58, A6, B6, 128, 0, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=" },
	{ 0, 58, B6, A6, 129, 0, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=" },
	{ 0, 58, A6, B6, 146, 0, "1:fYC8+pz24E+EhANP1EZhpX0Dw10=" },
	{ 0, 46, "1.2.3.4", "5.6.7.8", 0, 0, "1:ikv3kmf89luf73WPz1jOs49S768=" },
	{ 0, 46, "5.6.7.8", "1.2.3.4", 0, 0, "1:ikv3kmf89luf73WPz1jOs49S768=" },
	{ 0, 46, A6, B6, 0, 0, "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=" },
	{ 0, 46, B6, A6, 0, 0, "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=" },
	/* baseline/README.md, "A custom seed=1 value". */
	{ 1, 6, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk=" },
	{ 1, 6, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk=" },
	{ 1, 17, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:OShq+iKDAMVouh/4bMxB9Sz4amw=" },
	{ 1, 132, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:uitchpn5MMGAQKBJh7bIr/bAr7s=" },
	{ 1, 1, "5.6.7.8", "1.2.3.4", 0, 0, "1:9pr4ZGTICiuZoIh90RRYE2RyXpU=" },
	{ 1, 1, "1.2.3.4", "5.6.7.8", 11, 0, "1:1DD7cWGC/Yg91YGsQeni8du3pIA=" },
	{ 1, 58, B6, A6, 129, 0, "1:IO27GQzPuCtNnwFvjWALMHu5tJE=" },
	{ 1, 58, A6, B6, 146, 0, "1:Cv4IKJe56BNkF0MBW2YxQ3Nwc3s=" },
	{ 1, 46, B6, A6, 0, 0, "1:j6EyyfBzL4vWKHFXgUqb5Az3OxM=" },
	/* baseline/baseline_deflt.json: real flows (ICMP as type, code). */
	{ 0, 6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=" },
	{ 0, 6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=" },
	{ 0, 6, "66.35.250.204", "128.232.110.120", 80, 34855, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=" },
	{ 0, 17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=" },
	{ 0, 132, "192.168.170.56", "192.168.170.8", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=" },
	{ 0, 1, "192.168.0.89", "192.168.0.1", 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=" },
	{ 0, 1, "192.168.0.1", "192.168.0.89", 0, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=" },
	{ 0, 1, "10.0.0.1", "10.0.0.2", 11, 0, "1:YHxtAirCG//0OzkcVAukqKQN9xM=" },
	{ 0, 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 0, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=" },
	{ 0, 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 0, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=" },
	{ 0, 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 0, "1:zavyT/cezQr1fmImYCwYnMXbgck=" },
	{ 0, 58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0, "1:2ObVBgIn28oZvibYZhZMBgh7WdQ=" },
	{ 0, 58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4, "1:hLZd0XGWojozrvxqE0dWB1iM6R0=" },
	{ 0, 58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 0, "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=" },
	{ 0, 58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 0, "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=" },
	{ 0, 58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 0, "1:pkvHqCL88/tg1k4cPigmZXUtL00=" },
	{ 0, 46, "10.1.12.2", "10.1.12.1", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=" },
};

static void
addr(const char *s, int *af, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1)
		*af = 4;
	else {
		assert_int_equal(inet_pton(AF_INET6, s, out), 1);
		*af = 6;
	}
}

static void
test_vectors(void **state)
{
	const struct vector	*v;
	uint8_t			 a[16], b[16];
	char			 out[COMMUNITYID_MAX];
	int			 af, af2;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		v = &vectors[i];
		addr(v->src, &af, a);
		addr(v->dst, &af2, b);
		assert_int_equal(af, af2);
		memset(out, 'x', sizeof(out));
		assert_int_equal(communityid_v1(v->seed, af, v->proto, a, b,
		    v->sport, v->dport, out), 0);
		if (strcmp(out, v->want) != 0)
			fail_msg("vector %zu (%s -> %s proto %u): got %s, want "
			    "%s", i, v->src, v->dst, v->proto, out, v->want);
	}
}

/* A bad address family is refused; the output is never overrun. */
static void
test_bad_af(void **state)
{
	uint8_t	a[16] = { 0 };
	char	out[COMMUNITYID_MAX];

	(void)state;
	assert_int_equal(communityid_v1(0, 5, 6, a, a, 1, 2, out), -1);
	assert_int_equal(communityid_v1(0, 4, 6, a, a, 1, 2, out), 0);
	assert_int_equal(strlen(out), 30);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_bad_af),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
