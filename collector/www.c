/* SPDX-License-Identifier: ISC */
/*
 * The files of collector/www/, assembled in with .incbin (the Makefile
 * runs the compiler from the top of the tree and makes www.o depend on
 * them).
 */
#include <string.h>

#include "www.h"

#define WWW_EMBED(sym, file)						\
	__asm__(".section .rodata\n"					\
	    ".global " #sym "\n.type " #sym ", @object\n"		\
	    ".balign 16\n" #sym ":\n"					\
	    ".incbin \"collector/www/" file "\"\n"			\
	    ".global " #sym "_end\n" #sym "_end:\n"			\
	    ".byte 0\n.previous\n");					\
	extern const unsigned char sym[], sym##_end[]

WWW_EMBED(www_index_html, "index.html");
WWW_EMBED(www_app_js, "app.js");
WWW_EMBED(www_style_css, "style.css");

static const struct www_file	files[] = {
	{ "/", "text/html; charset=utf-8", www_index_html,
	  www_index_html_end },
	{ "/app.js", "text/javascript; charset=utf-8", www_app_js,
	  www_app_js_end },
	{ "/style.css", "text/css; charset=utf-8", www_style_css,
	  www_style_css_end },
};

const struct www_file *
www_find(const char *path)
{
	size_t	i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (strcmp(files[i].path, path) == 0)
			return &files[i];
	return NULL;
}
