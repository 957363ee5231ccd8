/*
 * netlib.h - libcurl and libcrypto, loaded with dlopen() when first needed.
 *
 * Neither program links them: an idle pin-runner (every minute from cron)
 * or a status run maps only libc, SQLite and cJSON, and pays nothing for
 * TLS.  http.c takes libcurl from here in its first http_new(); the Tuya
 * client (tuya_client_new) and its signing layer take libcrypto.  The
 * headers still give the types and constants, so the -dev packages stay
 * build dependencies; the sonames are fixed at build time:
 *
 *   NETLIB_CURL_SONAME      "libcurl.so.4"       NETLIB_CURL_PACKAGE   "libcurl4"
 *   NETLIB_CRYPTO_SONAME    "libcrypto.so.N"     NETLIB_CRYPTO_PACKAGE "libsslN"
 *
 * (N is OPENSSL_VERSION_MAJOR of the headers; each may be overridden with
 * -D.)  A library that is missing, or lacks one of the functions, is an
 * ERR_INTERNAL (exit 70) whose message names the library, dlerror()'s
 * text and the Debian package to install.  A loaded library stays loaded
 * until exit (no dlclose).  Single-threaded use: the first call loads.
 */
#ifndef STAYS_NETLIB_H
#define STAYS_NETLIB_H

#include <stddef.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "err.h"

/* The libcurl functions http.c calls, under short names: curl.h defines
 * curl_easy_setopt and curl_easy_getinfo as function-like macros. */
struct netlib_curl {
	CURLcode (*global_init)(long flags);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *c);
	void (*easy_reset)(CURL *c);
	CURLcode (*setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*perform)(CURL *c);
	CURLcode (*getinfo)(CURL *c, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode rc);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};

/* The libcrypto functions tuya_sign.c calls. */
struct netlib_crypto {
	int (*digest)(const void *data, size_t count, unsigned char *md,
		      unsigned int *size, const EVP_MD *type, ENGINE *impl);
	const EVP_MD *(*sha256)(void);
	unsigned char *(*hmac)(const EVP_MD *md, const void *key, int key_len,
			       const unsigned char *data, size_t data_len,
			       unsigned char *out, unsigned int *out_len);
	const EVP_CIPHER *(*aes_128_ecb)(void);
	const EVP_CIPHER *(*aes_256_ecb)(void);
	EVP_CIPHER_CTX *(*ctx_new)(void);
	void (*ctx_free)(EVP_CIPHER_CTX *ctx);
	int (*ctx_set_padding)(EVP_CIPHER_CTX *ctx, int pad);
	int (*cipher_init_ex)(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *cipher,
			      ENGINE *impl, const unsigned char *key,
			      const unsigned char *iv, int enc);
	int (*cipher_update)(EVP_CIPHER_CTX *ctx, unsigned char *out, int *outl,
			     const unsigned char *in, int inl);
	int (*cipher_final_ex)(EVP_CIPHER_CTX *ctx, unsigned char *out, int *outl);
};

/*
 * The process's libcurl (NETLIB_CURL_SONAME) or libcrypto
 * (NETLIB_CRYPTO_SONAME), loaded by the first successful call; later calls
 * return the same table at once.  NULL when the library cannot be loaded,
 * with the message in errbuf (may be NULL); a later call tries again.
 * The table is static: never freed, valid until exit.
 */
const struct netlib_curl *netlib_curl(char *errbuf);
const struct netlib_crypto *netlib_crypto(char *errbuf);

/*
 * The loaders themselves, with the soname as a parameter (the tests load
 * one that does not exist): dlopen(soname) and fill *out with its
 * functions.  Returns ERR_OK, or ERR_INTERNAL with "cannot load SONAME
 * (dlerror): install the package PACKAGE" in errbuf when dlopen or any
 * dlsym fails (*out is then zeroed).  package is the hint (borrowed).
 * Each call is one more dlopen reference, never closed.
 */
enum err netlib_curl_open(const char *soname, const char *package,
			  struct netlib_curl *out, char *errbuf);
enum err netlib_crypto_open(const char *soname, const char *package,
			    struct netlib_crypto *out, char *errbuf);

#endif
