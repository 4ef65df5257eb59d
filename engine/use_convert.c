/*
 * use_convert.c - the USE-Lite TF.js package to GGUF (use.h describes both
 * layouts).
 *
 * Outline of use_convert():
 *   1. model.json: the weights manifest becomes a table of weights (name,
 *      dtype, shape, group and byte offset); each group's shards are read
 *      and concatenated, and every weight must lie inside its group's bytes;
 *   2. the graph is checked for the structure the engine computes (the
 *      doubled embedding, Sin/Cos timing, ReLU FFN, mean pooling, tanh,
 *      L2), and the scalar constants for the values use.c assumes;
 *   3. the blocks are found (Layer_0, Layer_1, ...) and their weights
 *      checked against each other's shapes;
 *   4. vocab.json gives the pieces and their exact scores;
 *   5. the GGUF is written: header, key/values, tensor infos, then the data
 *      (kernels transposed to rows of outputs), each at a multiple of 32,
 *      into a temporary file renamed over out_gguf at the end.
 */
#include "use.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/fsutil.h"
#include "../common/status.h"
#include "gguf_write.h"

#define MAX_JSON	(64u << 20)	  /* model.json, vocab.json */
#define MAX_GROUP_BYTES ((size_t)2 << 30) /* the shards of one group */
#define MAX_WEIGHTS	100000
#define MAX_LAYERS	64
#define MAX_VOCAB	(1u << 22)

/* name prefixes of the graph */
#define KT  "module_apply_default/Encoder_en/KonaTransformer/"
#define ENC KT "Encode/"
#define STK ENC "TransformerStack/"
#define VAR "module/Encoder_en/KonaTransformer/Encode/"
#define HID "module_apply_default/Encoder_en/hidden_layers/"

enum wtype { W_F32, W_I32 };

struct weight {
	const char *name; /* borrowed from the parsed model.json */
	enum wtype type;
	int n_dims;
	uint64_t shape[4];
	uint64_t count; /* product of the shape */
	size_t group;
	size_t off; /* bytes into the group */
};

/* What the converter learned from the package. */
struct pkg {
	json_object *model;
	json_object *nodes; /* modelTopology.node */
	struct weight *w;
	size_t nw;
	unsigned char **gdata; /* each group's shards, concatenated */
	size_t *glen;
	size_t ngroups;
	char *err;
	size_t errsz;
};

/* One tensor of the output: a weight, maybe transposed, under our name. */
struct otensor {
	char name[64];
	const struct weight *src;
	uint32_t n_dims;
	uint64_t ne[2];
	bool transpose; /* src (rows = n_in, cols = n_out) -> n_out rows of n_in */
};

struct layer_info {
	uint64_t d_in, d_att, d_out, n_ff, head_dim;
	bool res_proj;
};

static int fail(struct pkg *p, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct pkg *p, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (p->err && p->errsz)
		vsnprintf(p->err, p->errsz, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- reading the package --------------------------------------------------- */

static int read_json(struct pkg *p, const char *dir, const char *file, json_object **out)
{
	*out = NULL;
	char *path = mx_path_join(dir, file), *data = NULL;
	size_t len = 0;
	if (!path)
		return fail(p, MX_ENOMEM, "out of memory");
	int rc = mx_read_file(path, MAX_JSON, &data, &len);
	if (rc) {
		rc = fail(p, rc, "cannot read '%s': %s", path, mx_strerror(rc));
		goto out;
	}
	enum json_tokener_error jerr = json_tokener_success;
	*out = json_tokener_parse_verbose(data, &jerr);
	if (!*out)
		rc = fail(p, MX_ECORRUPT, "'%s' is not JSON: %s", path,
			  json_tokener_error_desc(jerr));
out:
	free(data);
	free(path);
	return rc;
}

static json_object *member(json_object *o, const char *key, json_type type)
{
	json_object *v = NULL;
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

/* Reads the shards of one group (plain file names in dir) back to back. */
static int read_group(struct pkg *p, const char *dir, json_object *paths, size_t g)
{
	size_t n = json_object_array_length(paths);
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(paths, i);
		const char *name =
			json_object_is_type(s, json_type_string) ? json_object_get_string(s) : NULL;
		if (!name || !*name || strchr(name, '/') || !strcmp(name, ".") ||
		    !strcmp(name, ".."))
			return fail(p, MX_ECORRUPT, "model.json: bad shard path in group %zu", g);
		char *path = mx_path_join(dir, name), *data = NULL;
		size_t len = 0;
		if (!path)
			return fail(p, MX_ENOMEM, "out of memory");
		int rc = mx_read_file(path, MAX_GROUP_BYTES - p->glen[g], &data, &len);
		if (rc) {
			rc = fail(p, rc, "cannot read '%s': %s", path, mx_strerror(rc));
			free(path);
			return rc;
		}
		free(path);
		unsigned char *grown = realloc(p->gdata[g], p->glen[g] + len + 1);
		if (!grown) {
			free(data);
			return fail(p, MX_ENOMEM, "out of memory");
		}
		memcpy(grown + p->glen[g], data, len);
		p->gdata[g] = grown;
		p->glen[g] += len;
		free(data);
	}
	return 0;
}

/* One entry of a group's "weights": its table row, at byte *off. */
static int parse_weight(struct pkg *p, json_object *o, size_t g, size_t *off, struct weight *w)
{
	json_object *name = member(o, "name", json_type_string);
	json_object *shape = member(o, "shape", json_type_array);
	json_object *dtype = member(o, "dtype", json_type_string);
	json_object *q = NULL;
	if (!name || !shape || !dtype)
		return fail(p, MX_ECORRUPT, "model.json: a weight without name, shape or dtype");
	w->name = json_object_get_string(name);
	if (json_object_object_get_ex(o, "quantization", &q) && q &&
	    !json_object_is_type(q, json_type_null))
		return fail(p, MX_EUNSUPPORTED,
			    "weight '%.200s' is quantized: only float32 packages are supported",
			    w->name);
	const char *dt = json_object_get_string(dtype);
	if (!strcmp(dt, "float32"))
		w->type = W_F32;
	else if (!strcmp(dt, "int32"))
		w->type = W_I32;
	else
		return fail(p, MX_EUNSUPPORTED, "weight '%.200s' has dtype '%.32s'", w->name, dt);
	size_t nd = json_object_array_length(shape);
	if (nd > 4)
		return fail(p, MX_EUNSUPPORTED, "weight '%.200s' has %zu dimensions", w->name, nd);
	w->n_dims = (int)nd;
	w->count = 1;
	for (size_t i = 0; i < nd; i++) {
		json_object *d = json_object_array_get_idx(shape, i);
		int64_t v = json_object_is_type(d, json_type_int) ? json_object_get_int64(d) : -1;
		if (v < 0 || (uint64_t)v > MAX_GROUP_BYTES ||
		    __builtin_mul_overflow(w->count, (uint64_t)v, &w->count) ||
		    w->count > MAX_GROUP_BYTES)
			return fail(p, MX_ECORRUPT, "weight '%.200s' has a bad shape", w->name);
		w->shape[i] = (uint64_t)v;
	}
	w->group = g;
	w->off = *off;
	*off += (size_t)w->count * 4;
	if (*off > p->glen[g])
		return fail(p, MX_ECORRUPT,
			    "weight '%.200s' runs past the end of its shards (%zu > %zu bytes)",
			    w->name, *off, p->glen[g]);
	return 0;
}

static int parse_manifest(struct pkg *p, const char *dir)
{
	json_object *man = member(p->model, "weightsManifest", json_type_array);
	json_object *topo = member(p->model, "modelTopology", json_type_object);
	p->nodes = member(topo, "node", json_type_array);
	if (!man || !p->nodes)
		return fail(p, MX_ECORRUPT,
			    "model.json is not a TF.js graph model (no weightsManifest or nodes)");
	p->ngroups = json_object_array_length(man);
	size_t total = 0;
	for (size_t g = 0; g < p->ngroups; g++) {
		json_object *ws =
			member(json_object_array_get_idx(man, g), "weights", json_type_array);
		if (!ws)
			return fail(p, MX_ECORRUPT, "model.json: group %zu has no weights", g);
		total += json_object_array_length(ws);
		if (total > MAX_WEIGHTS)
			return fail(p, MX_ETOOBIG, "model.json: too many weights");
	}
	p->gdata = calloc(p->ngroups ? p->ngroups : 1, sizeof *p->gdata);
	p->glen = calloc(p->ngroups ? p->ngroups : 1, sizeof *p->glen);
	p->w = calloc(total ? total : 1, sizeof *p->w);
	if (!p->gdata || !p->glen || !p->w)
		return fail(p, MX_ENOMEM, "out of memory");
	for (size_t g = 0; g < p->ngroups; g++) {
		json_object *grp = json_object_array_get_idx(man, g);
		json_object *paths = member(grp, "paths", json_type_array);
		json_object *ws = member(grp, "weights", json_type_array);
		if (!paths)
			return fail(p, MX_ECORRUPT, "model.json: group %zu has no paths", g);
		int rc = read_group(p, dir, paths, g);
		if (rc)
			return rc;
		size_t off = 0, n = json_object_array_length(ws);
		for (size_t i = 0; i < n; i++) {
			if ((rc = parse_weight(p, json_object_array_get_idx(ws, i), g, &off,
					       &p->w[p->nw])))
				return rc;
			p->nw++;
		}
	}
	return 0;
}

static const struct weight *find_weight(const struct pkg *p, const char *name)
{
	for (size_t i = 0; i < p->nw; i++)
		if (!strcmp(p->w[i].name, name))
			return &p->w[i];
	return NULL;
}

/* The float32 weight name whose shape, without leading 1s, is the n
 * values of dims (0 in dims: any size). NULL with the error set. */
static const struct weight *need(struct pkg *p, const char *name, int n, const uint64_t *dims)
{
	const struct weight *w = find_weight(p, name);
	if (!w) {
		fail(p, MX_ECORRUPT, "model.json: no weight '%.300s'", name);
		return NULL;
	}
	int lead = 0;
	while (w->n_dims - lead > n && w->shape[lead] == 1)
		lead++;
	bool ok = w->type == W_F32 && w->n_dims - lead == n;
	for (int i = 0; ok && i < n; i++)
		ok = w->shape[lead + i] > 0 && (dims[i] == 0 || dims[i] == w->shape[lead + i]);
	if (!ok) {
		fail(p, MX_ECORRUPT, "model.json: weight '%.300s' has an unexpected shape or dtype",
		     name);
		return NULL;
	}
	return w;
}

static const void *wdata(const struct pkg *p, const struct weight *w)
{
	return p->gdata[w->group] + w->off;
}

/* The last shape entry of w (the output width of a kernel, a vector's size) */
static uint64_t last_dim(const struct weight *w)
{
	return w->shape[w->n_dims - 1];
}

static int scalar_f32(struct pkg *p, const char *name, float *v)
{
	const struct weight *w = find_weight(p, name);
	if (!w || w->type != W_F32 || w->count != 1)
		return fail(p, MX_ECORRUPT, "model.json: no float constant '%.300s'", name);
	memcpy(v, wdata(p, w), 4);
	return 0;
}

static int scalar_i32(struct pkg *p, const char *name, int32_t *v)
{
	const struct weight *w = find_weight(p, name);
	if (!w || w->type != W_I32 || w->count != 1)
		return fail(p, MX_ECORRUPT, "model.json: no int constant '%.300s'", name);
	memcpy(v, wdata(p, w), 4);
	return 0;
}

/* The float constant of the first weight whose name ends with suffix. */
static int scalar_f32_suffix(struct pkg *p, const char *suffix, float *v)
{
	size_t sl = strlen(suffix);
	for (size_t i = 0; i < p->nw; i++) {
		size_t nl = strlen(p->w[i].name);
		if (nl >= sl && !strcmp(p->w[i].name + nl - sl, suffix))
			return scalar_f32(p, p->w[i].name, v);
	}
	return fail(p, MX_ECORRUPT, "model.json: no constant '*%.100s'", suffix);
}

/* ---- checking the graph ------------------------------------------------------ */

static json_object *find_node(const struct pkg *p, const char *name)
{
	size_t n = json_object_array_length(p->nodes);
	for (size_t i = 0; i < n; i++) {
		json_object *nd = json_object_array_get_idx(p->nodes, i);
		json_object *nm = member(nd, "name", json_type_string);
		if (nm && !strcmp(json_object_get_string(nm), name))
			return nd;
	}
	return NULL;
}

/* Node name must exist with op, and (when given) its first inputs in0, in1. */
static int need_node(struct pkg *p, const char *name, const char *op, const char *in0,
		     const char *in1)
{
	json_object *nd = find_node(p, name);
	json_object *o = member(nd, "op", json_type_string);
	json_object *in = member(nd, "input", json_type_array);
	const char *want[2] = { in0, in1 };
	bool ok = o && !strcmp(json_object_get_string(o), op);
	for (size_t i = 0; ok && i < 2; i++) {
		if (!want[i])
			continue;
		json_object *s = in ? json_object_array_get_idx(in, i) : NULL;
		ok = s && json_object_is_type(s, json_type_string) &&
		     !strcmp(json_object_get_string(s), want[i]);
	}
	if (!ok)
		return fail(p, MX_EUNSUPPORTED,
			    "the graph is not the USE-Lite this converter knows (node '%.300s')",
			    name);
	return 0;
}

static int check_graph(struct pkg *p, size_t n_layers)
{
	char a[512], b[512], c[512];
	int rc = 0;
	/* x = e + (e + timing): the embedding is added twice */
	if ((rc = need_node(p, STK "Layer_0/add", "Add", ENC "Scatter/ScatterNd",
			    STK "Layer_0/AddTimingSignal/Scatter/ScatterNd")) ||
	    (rc = need_node(p, STK "Layer_0/AddTimingSignal/add", "Add",
			    STK "Layer_0/AddTimingSignal/Gather/GatherNd",
			    STK "Layer_0/AddTimingSignal/TimingSignal/concat")) ||
	    (rc = need_node(p, STK "Layer_0/AddTimingSignal/TimingSignal/concat", "ConcatV2",
			    STK "Layer_0/AddTimingSignal/TimingSignal/Sin",
			    STK "Layer_0/AddTimingSignal/TimingSignal/Cos")) ||
	    (rc = need_node(p, ENC "embedding_lookup", "GatherV2", "module/Embeddings_en", NULL)))
		return rc;
	for (size_t l = 0; l < n_layers; l++) {
		/* pre-norm attention with the residual added after it */
		snprintf(a, sizeof a, STK "Layer_%zu/TransformerLayer/layer_postprocess/add", l);
		snprintf(b, sizeof b, STK "Layer_%zu/TransformerLayer/MultiheadAttention/Squeeze_1",
			 l);
		if ((rc = need_node(p, a, "Add", b, NULL)))
			return rc;
		snprintf(a, sizeof a,
			 STK "Layer_%zu/TransformerLayer/MultiheadAttention/DotProductAttention/"
			     "BaseDotProductAttention/Softmax",
			 l);
		if ((rc = need_node(p, a, "Softmax", NULL, NULL)))
			return rc;
		/* the FFN: relu between the two dense layers, residual after */
		snprintf(a, sizeof a, STK "Layer_%zu/TransformerLayer/FFN/conv1/Relu", l);
		if ((rc = need_node(p, a, "Relu", NULL, NULL)))
			return rc;
		snprintf(a, sizeof a, STK "Layer_%zu/TransformerLayer/FFN/layer_postprocess/add",
			 l);
		snprintf(b, sizeof b, STK "Layer_%zu/TransformerLayer/FFN/Scatter/ScatterNd", l);
		snprintf(c, sizeof c, STK "Layer_%zu/TransformerLayer/layer_postprocess/add", l);
		if ((rc = need_node(p, a, "Add", b, c)))
			return rc;
	}
	/* the last block's output, mean-pooled, into tanh and the L2 norm */
	snprintf(a, sizeof a, STK "Layer_%zu/TransformerLayer/FFN/layer_postprocess/add",
		 n_layers - 1);
	if ((rc = need_node(p, KT "mul", "Mul", a, NULL)) ||
	    (rc = need_node(p, KT "Sum", "Sum", KT "mul", NULL)) ||
	    (rc = need_node(p, KT "div", "RealDiv", KT "Sum", NULL)) ||
	    (rc = need_node(p, HID "tanh_layer_0/MatMul", "MatMul", KT "div", NULL)) ||
	    (rc = need_node(p, HID "tanh_layer_0/Tanh", "Tanh", NULL, NULL)) ||
	    (rc = need_node(p, HID "l2_normalize", "Mul", HID "tanh_layer_0/Tanh", NULL)))
		return rc;
	return 0;
}

/* ---- the blocks ------------------------------------------------------------------ */

enum layout { AS_VECTOR, AS_MATRIX, TRANSPOSED };

/* Adds weight w as tensor name: a vector of all its values, a matrix of
 * its last two dims (rows of the last), or that matrix transposed. */
static void add_tensor(struct otensor *t, size_t *nt, const char *name, const struct weight *w,
		       enum layout how)
{
	struct otensor *o = &t[(*nt)++];
	snprintf(o->name, sizeof o->name, "%s", name);
	o->src = w;
	o->transpose = how == TRANSPOSED;
	if (how == AS_VECTOR) {
		o->n_dims = 1;
		o->ne[0] = w->count;
		o->ne[1] = 1;
		return;
	}
	uint64_t rows = w->shape[w->n_dims - 2], cols = w->shape[w->n_dims - 1];
	o->n_dims = 2;
	o->ne[0] = how == TRANSPOSED ? rows : cols;
	o->ne[1] = how == TRANSPOSED ? cols : rows;
}

/* The weights of a block: where the name starts (ENC, STK or VAR prefix of
 * the block), its end, our name, its shape in terms of the block's widths
 * (ANY: learned from this weight, see `sets`) and how it is stored. */
enum width { ANY, D_IN, D_ATT, D_ATT3, D_OUT, N_FF };
enum prefix { P_ENC, P_STK, P_VAR };
struct wspec {
	enum prefix prefix;
	const char *suffix;
	const char *ours;
	int n;
	enum width dims[2];
	enum width sets; /* the width the last dim gives (D_ATT3: 3 * d_att) */
	enum layout how;
	bool res; /* only in a block that changes the width */
};

#define LN  "layer_prepostprocess/layer_norm/"
#define MHA "MultiheadAttention/"
static const struct wspec block_weights[] = {
	{ P_ENC,
	  LN "layer_norm_scale/ConcatPartitions/concat",
	  "attn_norm.weight",
	  1,
	  { D_IN },
	  ANY,
	  AS_VECTOR,
	  false },
	{ P_ENC,
	  LN "layer_norm_bias/ConcatPartitions/concat",
	  "attn_norm.bias",
	  1,
	  { D_IN },
	  ANY,
	  AS_VECTOR,
	  false },
	{ P_VAR,
	  MHA "qkv_transform_single/kernel/part_0",
	  "attn_qkv.weight",
	  2,
	  { D_IN, ANY },
	  D_ATT3,
	  TRANSPOSED,
	  false },
	{ P_ENC,
	  MHA "qkv_transform_single/bias/ConcatPartitions/concat",
	  "attn_qkv.bias",
	  1,
	  { D_ATT3 },
	  ANY,
	  AS_VECTOR,
	  false },
	{ P_VAR,
	  MHA "output_transform_single/kernel/part_0",
	  "attn_out.weight",
	  2,
	  { D_ATT, ANY },
	  D_OUT,
	  TRANSPOSED,
	  false },
	{ P_ENC,
	  MHA "output_transform_single/bias/ConcatPartitions/concat",
	  "attn_out.bias",
	  1,
	  { D_OUT },
	  ANY,
	  AS_VECTOR,
	  false },
	{ P_ENC,
	  "dense/kernel/ConcatPartitions/concat",
	  "res_proj.weight",
	  2,
	  { D_IN, D_OUT },
	  ANY,
	  TRANSPOSED,
	  true },
	{ P_ENC,
	  "dense/bias/ConcatPartitions/concat",
	  "res_proj.bias",
	  1,
	  { D_OUT },
	  ANY,
	  AS_VECTOR,
	  true },
	{ P_ENC,
	  "FFN/" LN "layer_norm_scale/ConcatPartitions/concat",
	  "ffn_norm.weight",
	  1,
	  { D_OUT },
	  ANY,
	  AS_VECTOR,
	  false },
	{ P_ENC,
	  "FFN/" LN "layer_norm_bias/ConcatPartitions/concat",
	  "ffn_norm.bias",
	  1,
	  { D_OUT },
	  ANY,
	  AS_VECTOR,
	  false },
	{ P_STK,
	  "FFN/conv1/Tensordot/Reshape_1",
	  "ffn_up.weight",
	  2,
	  { D_OUT, ANY },
	  N_FF,
	  TRANSPOSED,
	  false },
	{ P_ENC,
	  "FFN/conv1/bias/ConcatPartitions/concat",
	  "ffn_up.bias",
	  1,
	  { N_FF },
	  ANY,
	  AS_VECTOR,
	  false },
	{ P_STK,
	  "FFN/conv2/Tensordot/Reshape_1",
	  "ffn_down.weight",
	  2,
	  { N_FF, D_OUT },
	  ANY,
	  TRANSPOSED,
	  false },
	{ P_ENC,
	  "FFN/conv2/bias/ConcatPartitions/concat",
	  "ffn_down.bias",
	  1,
	  { D_OUT },
	  ANY,
	  AS_VECTOR,
	  false },
};
#undef LN
#undef MHA

static uint64_t width_of(const struct layer_info *li, enum width wd)
{
	switch (wd) {
	case D_IN: return li->d_in;
	case D_ATT: return li->d_att;
	case D_ATT3: return 3 * li->d_att;
	case D_OUT: return li->d_out;
	case N_FF: return li->n_ff;
	case ANY: break;
	}
	return 0;
}

/* Finds and checks the weights of block l (input width d_in), adding them
 * to t. */
static int load_layer(struct pkg *p, size_t l, uint64_t d_in, struct layer_info *li,
		      struct otensor *t, size_t *nt)
{
	char pre[3][128], nm[512], ours[64];
	snprintf(pre[P_ENC], sizeof pre[P_ENC], ENC "Layer_%zu/TransformerLayer/", l);
	snprintf(pre[P_STK], sizeof pre[P_STK], STK "Layer_%zu/TransformerLayer/", l);
	snprintf(pre[P_VAR], sizeof pre[P_VAR], VAR "Layer_%zu/TransformerLayer/", l);
	*li = (struct layer_info){ .d_in = d_in };
	snprintf(nm, sizeof nm, "%s%s", pre[P_ENC], "dense/kernel/ConcatPartitions/concat");
	li->res_proj = find_weight(p, nm) != NULL;

	for (size_t i = 0; i < sizeof block_weights / sizeof block_weights[0]; i++) {
		const struct wspec *s = &block_weights[i];
		if (s->res && !li->res_proj)
			continue;
		uint64_t dims[2] = { width_of(li, s->dims[0]), width_of(li, s->dims[1]) };
		snprintf(nm, sizeof nm, "%s%s", pre[s->prefix], s->suffix);
		const struct weight *w = need(p, nm, s->n, dims);
		if (!w)
			return MX_ECORRUPT;
		uint64_t last = last_dim(w);
		if (s->sets == D_ATT3 && last % 3)
			return fail(p, MX_ECORRUPT,
				    "block %zu: q/k/v width %llu is not 3 equal parts", l,
				    (unsigned long long)last);
		if (s->sets == D_ATT3)
			li->d_att = last / 3;
		else if (s->sets == D_OUT)
			li->d_out = last;
		else if (s->sets == N_FF)
			li->n_ff = last;
		snprintf(ours, sizeof ours, "use.blk.%zu.%s", l, s->ours);
		add_tensor(t, nt, ours, w, s->how);
	}
	if (!li->res_proj && li->d_in != li->d_out)
		return fail(p, MX_ECORRUPT, "block %zu changes the width without a projection", l);

	/* the head size, and the attention scale use.c assumes */
	int32_t hd = 0;
	float scale = 0;
	snprintf(nm, sizeof nm, "%s%s", pre[P_STK],
		 "MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/3");
	int rc = scalar_i32(p, nm, &hd);
	if (rc)
		return rc;
	if (hd <= 0 || li->d_att % (uint64_t)hd)
		return fail(p, MX_ECORRUPT, "block %zu: head size %d does not divide %llu", l, hd,
			    (unsigned long long)li->d_att);
	li->head_dim = (uint64_t)hd;
	snprintf(nm, sizeof nm, "%s%s", pre[P_STK], "MultiheadAttention/mul/y");
	if ((rc = scalar_f32(p, nm, &scale)))
		return rc;
	if (scale != (float)(1.0 / sqrt((double)hd)))
		return fail(p, MX_EUNSUPPORTED, "block %zu: attention scale %g is not 1/sqrt(%d)",
			    l, (double)scale, hd);
	return 0;
}

/* ---- the vocabulary ---------------------------------------------------------------- */

struct vocab {
	json_object *root;
	size_t n;
};

static int load_vocab(struct pkg *p, const char *dir, struct vocab *v)
{
	int rc = read_json(p, dir, "vocab.json", &v->root);
	if (rc)
		return rc;
	if (!json_object_is_type(v->root, json_type_array))
		return fail(p, MX_ECORRUPT, "vocab.json is not an array");
	v->n = json_object_array_length(v->root);
	if (v->n == 0 || v->n > MAX_VOCAB)
		return fail(p, MX_ECORRUPT, "vocab.json has %zu entries", v->n);
	for (size_t i = 0; i < v->n; i++) {
		/* json-c gives a JSON null as NULL (and calls it json_type_null) */
		json_object *e = json_object_array_get_idx(v->root, i);
		bool pair =
			json_object_is_type(e, json_type_array) && json_object_array_length(e) >= 2;
		json_object *s = pair ? json_object_array_get_idx(e, 1) : NULL;
		if (!pair ||
		    !json_object_is_type(json_object_array_get_idx(e, 0), json_type_string) ||
		    !(json_object_is_type(s, json_type_double) ||
		      json_object_is_type(s, json_type_int) ||
		      json_object_is_type(s, json_type_null)))
			return fail(p, MX_ECORRUPT, "vocab.json: entry %zu is not [piece, score]",
				    i);
	}
	return 0;
}

/* Entry i: its piece, and its score as JavaScript sees it (null adds as 0). */
static const char *vocab_piece(const struct vocab *v, size_t i, size_t *len)
{
	json_object *s = json_object_array_get_idx(json_object_array_get_idx(v->root, i), 0);
	*len = (size_t)json_object_get_string_len(s);
	return json_object_get_string(s);
}

static double vocab_score(const struct vocab *v, size_t i)
{
	json_object *s = json_object_array_get_idx(json_object_array_get_idx(v->root, i), 1);
	return json_object_is_type(s, json_type_null) ? 0.0 : json_object_get_double(s);
}

/* ---- the GGUF ---------------------------------------------------------------------------- */

/* The vocabulary: pieces, f32 scores, and the residuals r0, r1 with
 * (double)hi + r0 + r1 == the double score, exactly. */
static int kv_vocab(struct pkg *p, struct gguf_writer *g, const struct vocab *v)
{
	gguf_writer_arr_begin(g, "tokenizer.ggml.tokens", GGUF_STRING, v->n);
	for (size_t i = 0; i < v->n; i++) {
		size_t len;
		const char *s = vocab_piece(v, i, &len);
		gguf_writer_arr_str(g, s, len);
	}
	gguf_writer_arr_begin(g, "tokenizer.ggml.scores", GGUF_F32, v->n);
	for (size_t i = 0; i < v->n; i++)
		gguf_writer_arr_f32(g, (float)vocab_score(v, i));
	gguf_writer_arr_begin(g, "use.tokenizer.scores_residual", GGUF_F32, 2 * (uint64_t)v->n);
	for (size_t i = 0; i < v->n; i++) {
		double s = vocab_score(v, i);
		float hi = (float)s, r0 = (float)(s - (double)hi),
		      r1 = (float)((s - (double)hi) - (double)r0);
		if (!isfinite(s) || ((double)hi + (double)r0) + (double)r1 != s)
			return fail(p, MX_EUNSUPPORTED,
				    "vocab.json: the score of entry %zu cannot be stored", i);
		gguf_writer_arr_f32(g, r0);
		gguf_writer_arr_f32(g, r1);
	}
	return 0;
}

/* The data of tensor t: the source floats, transposed when asked. */
static int write_tensor(const struct pkg *p, struct gguf_writer *g, const struct otensor *t)
{
	const unsigned char *src = wdata(p, t->src);
	size_t n = (size_t)t->src->count;
	if (!t->transpose)
		return gguf_writer_data(g, src, n * 4);
	float *buf = malloc(n * sizeof *buf);
	if (!buf)
		return MX_ENOMEM;
	/* src (rows, cols) row-major -> dst (cols, rows): dst[c][r] = src[r][c] */
	size_t rows = (size_t)t->ne[0], cols = (size_t)t->ne[1];
	for (size_t r = 0; r < rows; r++)
		for (size_t c = 0; c < cols; c++)
			memcpy(&buf[c * rows + r], src + 4 * (r * cols + c), 4);
	int rc = gguf_writer_data(g, buf, n * 4);
	free(buf);
	return rc;
}

/* Writes the tensors t (the key/values are in g) to out, through a
 * temporary file beside it. */
static int write_gguf(struct pkg *p, const char *out, struct gguf_writer *g, struct otensor *t,
		      size_t nt)
{
	int rc = 0;
	for (size_t i = 0; i < nt && !rc; i++)
		rc = gguf_writer_tensor(g, t[i].name, GGML_F32, (int)t[i].n_dims, t[i].ne);
	if (!rc)
		rc = gguf_writer_begin(g, out);
	for (size_t i = 0; i < nt && !rc; i++)
		rc = write_tensor(p, g, &t[i]);
	if (!rc)
		rc = gguf_writer_finish(g);
	if (rc == MX_ENOMEM)
		return fail(p, rc, "out of memory");
	if (rc)
		return fail(p, rc, "%s", gguf_writer_errmsg(g));
	return 0;
}

/* ---- use_convert ------------------------------------------------------------------------- */

int use_convert(const char *model_dir, const char *out_gguf, char *err, size_t errsz)
{
	struct pkg p = { .err = err, .errsz = errsz };
	struct vocab v = { NULL, 0 };
	struct otensor *t = NULL;
	struct layer_info li[MAX_LAYERS];
	struct gguf_writer *kv = NULL;
	size_t nt = 0, nl = 0;
	const struct weight *w;
	char nm[512];
	int rc;
	if (err && errsz)
		err[0] = '\0';
	if (gguf_writer_new(&kv))
		return fail(&p, MX_ENOMEM, "out of memory");

	if ((rc = read_json(&p, model_dir, "model.json", &p.model)) ||
	    (rc = parse_manifest(&p, model_dir)))
		goto out;
	/* the blocks: Layer_0 .. Layer_{nl-1} */
	for (nl = 0; nl <= MAX_LAYERS; nl++) {
		snprintf(nm, sizeof nm,
			 VAR "Layer_%zu/TransformerLayer/MultiheadAttention/qkv_transform_single/"
			     "kernel/part_0",
			 nl);
		if (!find_weight(&p, nm))
			break;
	}
	if (nl == 0 || nl > MAX_LAYERS) {
		rc = fail(&p, MX_EUNSUPPORTED, "model.json: %zu transformer blocks", nl);
		goto out;
	}
	if ((rc = check_graph(&p, nl)))
		goto out;
	t = calloc(16 * nl + 8, sizeof *t);
	if (!t) {
		rc = fail(&p, MX_ENOMEM, "out of memory");
		goto out;
	}

	/* embeddings and the timing signal */
	const uint64_t any2[2] = { 0, 0 };
	if (!(w = need(&p, "module/Embeddings_en", 2, any2))) {
		rc = MX_ECORRUPT;
		goto out;
	}
	uint64_t n_rows = w->shape[0], d_emb = w->shape[1];
	add_tensor(t, &nt, "use.token_embd.weight", w, AS_MATRIX);
	const uint64_t half[1] = { d_emb / 2 };
	if (d_emb % 2 ||
	    !(w = need(&p, STK "Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1", 1, half))) {
		rc = d_emb % 2 ? fail(&p, MX_ECORRUPT, "odd embedding width") : MX_ECORRUPT;
		goto out;
	}
	add_tensor(t, &nt, "use.pos_timescale", w, AS_VECTOR);

	uint64_t d = d_emb;
	for (size_t l = 0; l < nl; l++) {
		if ((rc = load_layer(&p, l, d, &li[l], t, &nt)))
			goto out;
		d = li[l].d_out;
		if (li[l].d_att / li[l].head_dim != li[0].d_att / li[0].head_dim) {
			rc = fail(&p, MX_EUNSUPPORTED, "blocks with different head counts");
			goto out;
		}
	}
	const uint64_t pool_dims[2] = { d, 0 };
	if (!(w = need(&p, "module/Encoder_en/hidden_layers/tanh_layer_0/weights", 2, pool_dims))) {
		rc = MX_ECORRUPT;
		goto out;
	}
	uint64_t n_embd = last_dim(w);
	add_tensor(t, &nt, "use.pool_proj.weight", w, TRANSPOSED);
	const uint64_t pool_b[1] = { n_embd };
	if (!(w = need(&p, "module/Encoder_en/hidden_layers/tanh_layer_0/bias", 1, pool_b))) {
		rc = MX_ECORRUPT;
		goto out;
	}
	add_tensor(t, &nt, "use.pool_proj.bias", w, AS_VECTOR);

	/* constants */
	int32_t max_len = 0;
	float ln_eps = 0, l2_eps = 0;
	if ((rc = scalar_i32(&p, KT "ClipToMaxLength/Less/y", &max_len)) ||
	    (rc = scalar_f32_suffix(&p, "/layer_norm/Cast/x", &ln_eps)) ||
	    (rc = scalar_f32(&p, HID "l2_normalize/Maximum/y", &l2_eps)))
		goto out;
	if (max_len <= 0 || max_len > 1 << 20 || !(ln_eps >= 0) || !(l2_eps >= 0)) {
		rc = fail(&p, MX_ECORRUPT, "model.json: bad constants");
		goto out;
	}

	if ((rc = load_vocab(&p, model_dir, &v)))
		goto out;
	if (v.n > n_rows) {
		rc = fail(&p, MX_ECORRUPT,
			  "the vocabulary (%zu) is larger than the embeddings (%llu)", v.n,
			  (unsigned long long)n_rows);
		goto out;
	}

	gguf_writer_kv_str(kv, "general.architecture", "use-lite");
	gguf_writer_kv_str(kv, "general.name", "Universal Sentence Encoder Lite");
	gguf_writer_kv_u32(kv, "general.alignment", GGUF_WRITE_ALIGNMENT);
	gguf_writer_kv_u32(kv, "general.file_type", 0); /* all F32 */
	gguf_writer_kv_u32(kv, "use.context_length", (uint32_t)max_len);
	gguf_writer_kv_u32(kv, "use.embedding_length", (uint32_t)n_embd);
	gguf_writer_kv_u32(kv, "use.token_embedding_length", (uint32_t)d_emb);
	gguf_writer_kv_u32(kv, "use.block_count", (uint32_t)nl);
	gguf_writer_kv_u32(kv, "use.head_count", (uint32_t)(li[0].d_att / li[0].head_dim));
	gguf_writer_kv_u32(kv, "use.feed_forward_length", (uint32_t)li[0].n_ff);
	gguf_writer_kv_f32(kv, "use.attention.layer_norm_epsilon", ln_eps);
	gguf_writer_kv_f32(kv, "use.l2_norm_epsilon", l2_eps);
	gguf_writer_kv_str(kv, "tokenizer.ggml.model", "use-spm");
	if ((rc = kv_vocab(&p, kv, &v)))
		goto out;
	gguf_writer_kv_u32(kv, "tokenizer.ggml.unknown_token_id", 0);
	gguf_writer_kv_u32(kv, "use.tokenizer.reserved_count", 6); /* the TF.js Tokenizer's */
	rc = write_gguf(&p, out_gguf, kv, t, nt);
out:
	gguf_writer_free(kv);
	free(t);
	if (v.root)
		json_object_put(v.root);
	for (size_t g = 0; g < p.ngroups && p.gdata; g++)
		free(p.gdata[g]);
	free(p.gdata);
	free(p.glen);
	free(p.w);
	if (p.model)
		json_object_put(p.model);
	return rc;
}
