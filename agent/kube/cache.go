package kube

import (
	"context"
	"sync/atomic"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"github.com/foveanet/fovea/api/kubeclient"
)

// resourceCache is one resource's informer cache: a reflector keeps an
// indexer in step with the API server, trimming objects on the way in, and
// calls changed after each change.
type resourceCache struct {
	indexer   cache.Indexer
	transform cache.TransformFunc
	changed   func()
	synced    atomic.Bool
	reflector *cache.Reflector
}

// cacheHooks are what a watcher's caches share: the transform trimming
// objects on the way in, a call after each change, and where failed
// lists and watches of a resource are reported.
type cacheHooks struct {
	transform cache.TransformFunc
	changed   func()
	failed    func(resource string) cache.WatchErrorHandler
}

// newResourceCache caches resource, the objects (of example's type) that
// client's list and watch return; failures other than those of our own
// shutdown are reported.
func newResourceCache[L runtime.Object](
	h cacheHooks, resource string, example runtime.Object, client any,
	list func(context.Context, metav1.ListOptions) (L, error),
	watchFn func(context.Context, metav1.ListOptions) (watch.Interface, error),
) *resourceCache {
	c := &resourceCache{indexer: cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{}), transform: h.transform, changed: h.changed}
	failed := h.failed(resource)
	report := func(ctx context.Context, err error) {
		if ctx.Err() == nil {
			failed(c.reflector, err)
		}
	}
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			l, err := list(ctx, opts)
			if err != nil {
				report(ctx, err)
				return nil, err
			}
			return l, nil
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			w, err := watchFn(ctx, opts)
			if err != nil {
				report(ctx, err)
			}
			return w, err
		},
	}
	// With client's semantics, so that a fake clientset (which cannot
	// stream a watch-list) is listed instead.
	c.reflector = cache.NewReflectorWithOptions(cache.ToListWatcherWithWatchListSemantics(lw, client), example, c,
		cache.ReflectorOptions{Name: "fovea/" + resource, Backoff: kubeclient.RetryBackoff()})
	return c
}

// run lists and watches until ctx ends.
func (c *resourceCache) run(ctx context.Context) { c.reflector.RunWithContext(ctx) }

// hasSynced reports whether the first list has been stored.
func (c *resourceCache) hasSynced() bool { return c.synced.Load() }

// The reflector stores through these, from its one goroutine.

func (c *resourceCache) Add(obj any) error { return c.store(c.indexer.Add, obj) }

func (c *resourceCache) Update(obj any) error { return c.store(c.indexer.Update, obj) }

func (c *resourceCache) store(op func(any) error, obj any) error {
	obj, err := c.transform(obj)
	if err != nil {
		return err
	}
	if err := op(obj); err != nil {
		return err
	}
	c.changed()
	return nil
}

func (c *resourceCache) Delete(obj any) error {
	if err := c.indexer.Delete(obj); err != nil {
		return err
	}
	c.changed()
	return nil
}

// Replace stores a full list, after the first list and each relist.
func (c *resourceCache) Replace(list []any, resourceVersion string) error {
	for i, obj := range list {
		var err error
		if list[i], err = c.transform(obj); err != nil {
			return err
		}
	}
	if err := c.indexer.Replace(list, resourceVersion); err != nil {
		return err
	}
	c.synced.Store(true)
	c.changed()
	return nil
}

// Resync is never called: the reflectors have no resync period, since the
// index is rebuilt from the caches on every change.
func (c *resourceCache) Resync() error { return nil }

// Transformer trims what a watch-list streams before the reflector holds
// it all (the transform is idempotent, so Replace may apply it again).
func (c *resourceCache) Transformer() cache.TransformFunc { return c.transform }
