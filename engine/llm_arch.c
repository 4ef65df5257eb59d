/* llm_arch.c - the decoder architectures the chat model knows (see
 * llm_int.h for what an entry says, engine/README.md for the table). */
#include <string.h>

#include "llm_int.h"

static const struct llm_arch archs[] = {
	{ .name = "llama", .rope = LLM_ROPE_NORM, .qkv_bias = false },
	{ .name = "qwen2", .rope = LLM_ROPE_NEOX, .qkv_bias = true },
};

const struct llm_arch *llm_arch_find(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++)
		if (strlen(archs[i].name) == len && memcmp(archs[i].name, name, len) == 0)
			return &archs[i];
	return NULL;
}

const char *llm_arch_names(void)
{
	return "llama, qwen2";
}
