# cases_embed.sh - CLI cases of the embedding area: memex model gen.

t_model_gen() {
	local out="$W/models/tiny.gguf"
	mkdir -p "$W/models"
	mx_ok model gen --shape bert-tiny --type q8_0 --seed 3 --out "$out"
	assert_contains "$OUT" "Wrote $out: bert-tiny, q8_0, seed 3" "model gen reports"
	assert_mode "$out" 600
	mx_ok model info "$out"
	assert_contains "$OUT" "128 dimensions" "a generated BERT opens as an embedder"
	local first
	first=$(sha "$out")
	mx_ok model gen --shape bert-tiny --type q8_0 --seed 3 --out "$out"
	assert_eq "$(sha "$out")" "$first" "the same seed gives the same file"
	mx_ok model gen --shape llama-tiny --type q4_k_m --out "$W/models/llama.gguf"
	mx model gen --shape gpt-9 --type f32 --out "$W/models/x.gguf"
	assert_rc 2
	assert_one_line_error "unknown shape"
	assert_contains "$ERR" "minilm" "the error lists the shapes"
	mx model gen --shape minilm --type q3_k --out "$W/models/x.gguf"
	assert_rc 2
	assert_contains "$ERR" "q4_k_m" "the error lists the types"
	mx model gen --shape minilm --out "$W/models/x.gguf"
	assert_rc 2
	mx model gen --shape minilm --type f32 --vocab "$W/none.gguf" --out "$W/models/x.gguf"
	assert_rc 1
	assert_one_line_error "a missing vocabulary"
	[ ! -e "$W/models/x.gguf" ] || fail "a failed model gen left a file"
}

CASES+=(model_gen)

t_bench_search_kept_index() {
	local ix="$W/bench.db"
	mx_ok bench search --chunks 200 --queries 5 --index "$ix"
	assert_contains "$OUT" "build" "the first run builds the index"
	[ -f "$ix" ] || fail "bench search --index did not keep its index"
	mx_ok bench search --chunks 200 --queries 5 --index "$ix" --mode dense
	assert_contains "$OUT" "reused" "the second run reuses it"
	mx bench search --chunks 300 --queries 5 --index "$ix"
	assert_rc 1
	assert_one_line_error "a kept index of another size"
	assert_contains "$ERR" "holds 200 vectors" "the error tells what the index holds"
	mx_ok bench search --chunks 200 --queries 5 --index "$ix" --mmap 0 --mode bm25
	assert_contains "$OUT" "mapped up to 0 MB" "--mmap"
}

CASES+=(bench_search_kept_index)
