/* Weak references between talloc objects (util.h). */
#include "util.h"

struct weak_link;

struct smbsess__weak {
	void *target;
	struct weak_link *link; /* on the target; NULL once it is gone */
};

/* A child of the target: its destructor tells the reference. */
struct weak_link {
	struct smbsess__weak *weak;
};

static int link_destructor(struct weak_link *l)
{
	if (l->weak != NULL) {
		l->weak->target = NULL;
		l->weak->link = NULL;
	}
	return 0;
}

static int weak_destructor(struct smbsess__weak *w)
{
	if (w->link != NULL) {
		w->link->weak = NULL;
		talloc_free(w->link);
	}
	return 0;
}

struct smbsess__weak *smbsess__weak_new(TALLOC_CTX *owner, void *target)
{
	struct smbsess__weak *w;
	struct weak_link *l;

	if (target == NULL)
		return NULL;
	w = talloc_zero(owner, struct smbsess__weak);
	l = talloc_zero(target, struct weak_link);
	if (w == NULL || l == NULL) {
		talloc_free(w);
		talloc_free(l);
		return NULL;
	}
	w->target = target;
	w->link = l;
	l->weak = w;
	talloc_set_destructor(l, link_destructor);
	talloc_set_destructor(w, weak_destructor);
	return w;
}

void *smbsess__weak_get(const struct smbsess__weak *w)
{
	return w != NULL ? w->target : NULL;
}
