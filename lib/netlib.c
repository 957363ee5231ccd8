/*
 * netlib.c - dlopen() of libcurl and libcrypto on first use (netlib.h).
 *
 * Invariant: no symbol of either library is referenced at link time, so
 * neither is a NEEDED entry of the programs (tests/t_netlib.sh checks with
 * readelf); each table is filled all at once or not at all, so a caller
 * that holds a table can call every member.  The member types are checked
 * against the real prototypes at compile time (CHECK below), so a header
 * change cannot slip an ABI mismatch past the build.
 */
#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

#include <openssl/hmac.h>
#include <openssl/opensslv.h>

#include "netlib.h"
#include "banned.h"

#define STR_(x) #x
#define STR(x) STR_(x)

#ifndef NETLIB_CURL_SONAME
#define NETLIB_CURL_SONAME "libcurl.so.4"
#endif
#ifndef NETLIB_CURL_PACKAGE
#define NETLIB_CURL_PACKAGE "libcurl4"
#endif
#ifndef NETLIB_CRYPTO_SONAME
#define NETLIB_CRYPTO_SONAME "libcrypto.so." STR(OPENSSL_VERSION_MAJOR)
#endif
#ifndef NETLIB_CRYPTO_PACKAGE
#define NETLIB_CRYPTO_PACKAGE "libssl" STR(OPENSSL_VERSION_MAJOR)
#endif

/* One function: its name in the library, its member in a table. */
struct sym {
	const char *name;
	size_t off;
};

/* Each library's functions: the name in the library, the member. */
#define CURL_FUNCS(X)                                   \
	X(netlib_curl, curl_global_init, global_init)       \
	X(netlib_curl, curl_global_cleanup, global_cleanup) \
	X(netlib_curl, curl_easy_init, easy_init)           \
	X(netlib_curl, curl_easy_cleanup, easy_cleanup)     \
	X(netlib_curl, curl_easy_reset, easy_reset)         \
	X(netlib_curl, curl_easy_setopt, setopt)            \
	X(netlib_curl, curl_easy_perform, perform)          \
	X(netlib_curl, curl_easy_getinfo, getinfo)          \
	X(netlib_curl, curl_easy_strerror, easy_strerror)   \
	X(netlib_curl, curl_slist_append, slist_append)     \
	X(netlib_curl, curl_slist_free_all, slist_free_all)

#define CRYPTO_FUNCS(X)                                                 \
	X(netlib_crypto, EVP_Digest, digest)                                \
	X(netlib_crypto, EVP_sha256, sha256)                                \
	X(netlib_crypto, HMAC, hmac)                                        \
	X(netlib_crypto, EVP_aes_128_ecb, aes_128_ecb)                      \
	X(netlib_crypto, EVP_aes_256_ecb, aes_256_ecb)                      \
	X(netlib_crypto, EVP_CIPHER_CTX_new, ctx_new)                       \
	X(netlib_crypto, EVP_CIPHER_CTX_free, ctx_free)                     \
	X(netlib_crypto, EVP_CIPHER_CTX_set_padding, ctx_set_padding)       \
	X(netlib_crypto, EVP_CipherInit_ex, cipher_init_ex)                 \
	X(netlib_crypto, EVP_CipherUpdate, cipher_update)                   \
	X(netlib_crypto, EVP_CipherFinal_ex, cipher_final_ex)

/* The member's type must be the pointer type of the real function. */
#define CHECK(T, fn, m) \
	_Static_assert(__builtin_types_compatible_p(__typeof__(&(fn)), \
			__typeof__(((struct T *)0)->m)), #fn " and " #T "." #m);
#define SYM(T, fn, m) { #fn, offsetof(struct T, m) },

CURL_FUNCS(CHECK)
CRYPTO_FUNCS(CHECK)

static const struct sym curl_syms[] = { CURL_FUNCS(SYM) };
static const struct sym crypto_syms[] = { CRYPTO_FUNCS(SYM) };

/* Every member of a table is a function pointer, stored from dlsym()'s
 * void * by memcpy (POSIX guarantees the two have one representation). */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)),
	       "function and object pointers differ in size");

/*
 * dlopen(soname) and fill table (size bytes) from syms[0..n).  Either all
 * of it or, on error, none of it (zeroed).  The handle is never closed: a
 * table outlives this call, and the libraries keep state until exit.
 */
static enum err load(const char *soname, const char *package,
		     const struct sym *syms, size_t n, void *table, size_t size,
		     char *errbuf)
{
	void *h;
	const char *why;

	memset(table, 0, size);
	dlerror();
	if (!(h = dlopen(soname, RTLD_NOW | RTLD_LOCAL))) {
		why = dlerror();
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		void *fp;

		dlerror();
		fp = dlsym(h, syms[i].name);
		if (!fp) {
			why = dlerror();
			memset(table, 0, size);
			goto fail;
		}
		memcpy((char *)table + syms[i].off, &fp, sizeof(fp));
	}
	return ERR_OK;
fail:
	return ERRF(errbuf, ERR_INTERNAL, "cannot load %s (%s): install the package %s",
		    soname, why ? why : "unknown error", package);
}

enum err netlib_curl_open(const char *soname, const char *package,
			  struct netlib_curl *out, char *errbuf)
{
	return load(soname, package, curl_syms, sizeof(curl_syms) / sizeof(*curl_syms),
		    out, sizeof(*out), errbuf);
}

enum err netlib_crypto_open(const char *soname, const char *package,
			    struct netlib_crypto *out, char *errbuf)
{
	return load(soname, package, crypto_syms,
		    sizeof(crypto_syms) / sizeof(*crypto_syms), out, sizeof(*out), errbuf);
}

const struct netlib_curl *netlib_curl(char *errbuf)
{
	static struct netlib_curl t;
	static int loaded;

	if (!loaded && netlib_curl_open(NETLIB_CURL_SONAME, NETLIB_CURL_PACKAGE, &t,
					errbuf) == ERR_OK)
		loaded = 1;
	return loaded ? &t : NULL;
}

const struct netlib_crypto *netlib_crypto(char *errbuf)
{
	static struct netlib_crypto t;
	static int loaded;

	if (!loaded && netlib_crypto_open(NETLIB_CRYPTO_SONAME, NETLIB_CRYPTO_PACKAGE, &t,
					  errbuf) == ERR_OK)
		loaded = 1;
	return loaded ? &t : NULL;
}
