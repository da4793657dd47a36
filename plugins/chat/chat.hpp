// SPDX-License-Identifier: Apache-2.0
//
// The chat plugin ("chat", routes under /v1/chat): retrieval for a running coach's chat from
// the runner's own data (engine/retrieval), and asking it.
//
//   POST   /v1/chat/retrieve {"question","k"}  runner:read   ranked items: kind, id, date,
//          score, each method's rank, why it was chosen, its text; what the question was
//          understood to ask
//   POST   /v1/chat/ask {"question","k"}       chat:ask      the user's message is stored,
//          the items are retrieved, a prompt is built from them within the token budget and
//          the driver answers; the answer is stored as the coach's message. With
//          Accept: text/event-stream the answer comes as Server-Sent Events: items, the
//          answer's pieces (from a provider as it streams them: stream=true upstream, on a
//          thread of the plugin's), then done with the usage, or error with the status a
//          JSON answer would have had (502/504)
//   GET    /v1/chat/messages?limit=&before=     runner:read   newest first, paged by seq
//   DELETE /v1/chat/messages                    runner:write  forgets every message
//   GET    /v1/chat/memory                      runner:read   documents by kind, bytes, the
//          embedder and the vector index in use
//
// Memory per user (engine/retrieval/memory.hpp): one document per stored run (date, time of
// day, distance, time, pace, climb, heart rate, best efforts, splits, the routes it covered),
// the last 50 messages, the plan's days with the adjuster's reasons (from the plans plugin
// through plugin_get, when it is loaded; re-read after a run event and when older than 5
// minutes or from another day) and the profile. Built from the plugin's namespace on a
// user's first request and kept in memory (at most STRIDE_CHAT_MAX_USERS users holding at
// most STRIDE_CHAT_MEMORY_MB together, measured at build and estimated per document since;
// the least recently used go first); run.stored / run.deleted update it, user.deleted drops
// it.
//
//   user  r/<run_id>     the run's facts (JSON: start_s, sport, distance_m, moving_s, climb_m,
//                        avg_hr, efforts [[m, s]...], splits [s...], places [...])
//         m/<%016u seq>  a message {seq, role, text, at}
//         m_next         the next message seq
//         seen           "1" once the runs stored before the plugin first served the user
//                        were read
//         t/<date>       tokens spent that UTC day by the user; global: t/<date> for all users
//
// Configuration (environment, read at load):
//   STRIDE_CHAT_EMBEDDINGS   "hashed" (default: offline, engine/retrieval/embedding.hpp) or
//                            the base URL of an OpenAI-compatible API ("http://host:port/v1")
//   STRIDE_CHAT_EMBEDDINGS_MODEL, STRIDE_CHAT_EMBEDDINGS_DIMENSIONS (default 384)
//   STRIDE_CHAT_DRIVER       "none" (default: answers from the data) or the base URL of an
//                            OpenAI-compatible API for /chat/completions
//   STRIDE_CHAT_MODEL        the model name sent (default "default")
//   STRIDE_CHAT_API_KEY      sent as Bearer to both (default: OPENAI_API_KEY, else none)
//   STRIDE_CHAT_TIMEOUT_S (30), STRIDE_CHAT_RETRIES (2), STRIDE_CHAT_PROMPT_TOKENS (3000),
//   STRIDE_CHAT_MAX_ANSWER_TOKENS (512), STRIDE_CHAT_USER_DAILY_TOKENS (100000),
//   STRIDE_CHAT_DAILY_TOKENS (5000000: all users), STRIDE_CHAT_MAX_USERS (1000 in memory),
//   STRIDE_CHAT_MEMORY_MB (512: the memories of all users in memory together),
//   STRIDE_CHAT_VECTOR_INDEX "auto" (default: an exact scan up to STRIDE_CHAT_EXACT_MAX
//                            documents, 20000, hnswlib's HNSW graph beyond), "exact", "hnsw"
//
// Thread-safety: one request or event per user at a time works on that user's memory; users
// in parallel.
#pragma once

#include <string>

#include "plugins/api/stride_plugin.h"

namespace stride::plugins::chat {

const stride_plugin_info_t* Info();
int InitV1(const stride_host_api_t* host, stride_host_t* ctx, stride_plugin_t** self,
           const stride_plugin_api_t** api);

}  // namespace stride::plugins::chat
