// OpenRouter's TypeScript SDK (@openrouter/sdk, the real npm package) against a routeyard
// server: every discovery call it offers. Run by tests/test_ts_sdk.py with Node 20:
//   node discovery.mjs SDK_ENTRY BASE_URL KEY MODEL_ID
// SDK_ENTRY is the package's installed entry file; prints one JSON object of what each call
// returned (the SDK has parsed and validated every answer with its own schemas by then).
import { pathToFileURL } from "node:url";

const [entry, base, key, modelId] = process.argv.slice(2);
const { OpenRouter } = await import(pathToFileURL(entry).href);
const client = new OpenRouter({ apiKey: key, serverURL: `${base}/api/v1` });
const [author, slug] = modelId.split("/");
const out = {};

const pages = async (iterator) => {
  const ids = [];
  for await (const page of iterator) ids.push(...page.result.data.map((m) => m.id));
  return ids;
};

out.models = await pages(await client.models.list({}));
out.pagedModels = await pages(await client.models.list({ limit: 7 }));
out.count = (await client.models.count({})).data.count;
const model = (await client.models.get({ author, slug })).data;
out.model = { id: model.id, name: model.name, prompt: model.pricing.prompt,
              contextLength: model.contextLength };
out.forUser = await pages(await client.models.listForUser({ bearer: key }, {}));
const endpoints = (await client.endpoints.list({ author, slug })).data;
out.endpoints = endpoints.endpoints.map((e) => ({ tag: e.tag, provider: e.providerName,
                                                   prompt: e.pricing.prompt, status: e.status }));
out.zdr = (await client.endpoints.listZdrEndpoints({})).data.map((e) => `${e.modelId} ${e.tag}`);
out.providers = (await client.providers.list({})).data.map((p) => p.slug);
out.embeddings = await pages(await client.embeddings.listModels({}));
try {
  await client.models.get({ author: "nobody", slug: "nothing" });
  out.missing = "no error";
} catch (err) {
  out.missing = { status: err.statusCode ?? err.httpMeta?.response?.status,
                  message: String(err.message) };
}
try {
  await new OpenRouter({ apiKey: "sk-ry-v1-wrong", serverURL: `${base}/api/v1` }).models.count({});
  out.badKey = "no error";
} catch (err) {
  out.badKey = { status: err.statusCode ?? err.httpMeta?.response?.status };
}
console.log(JSON.stringify(out));
