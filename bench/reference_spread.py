#!/usr/bin/env python3
"""The reference implementation's own rounding spread: IST-DASLab/gptq, run as `peer_anchors.json` was
made (fp32, TF32 off, act-order, true-sequential, damp 0.01, block 128), with the calibration windows of
`calib_128x512.safetensors` in K shuffled orders. The twin of `bench/rounding_spread.py`, which does the
same for lmpress: same windows, same orders (Python's random.Random(seed).shuffle), so the two spreads
can be compared row by row.

Needs a GPU machine with PyTorch and transformers (the anchors were made with PyTorch 2.11, transformers
5.17, one H100) and a checkout of https://github.com/IST-DASLab/gptq (its gptq.py and quant.py are
imported from --gptq-repo; nothing of it is copied here). The decoder-layer loop below follows that
repository's `llama_sequential`, with transformers 5's layer arguments captured by a pre-hook.

  bench/reference_spread.py --model ../shared/models/lm-m --shared ../shared --gptq-repo ~/gptq \
      --orders 7 --bits 4 --group -1

Prints one JSON line per order (order 0 = the file as it is) and a summary line; perplexity follows the
window protocol of ../shared/README.md (heldout_dev, ctx 512, BOS prepended, windows without overlap).
"""
import argparse
import json
import math
import os
import sys
import time

from spread_summary import order_line, summary, window_order


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="HF model directory (LlamaForCausalLM)")
    ap.add_argument("--shared", required=True, help="folder holding reference/ and data/ (../shared)")
    ap.add_argument("--gptq-repo", required=True, help="checkout of IST-DASLab/gptq (gptq.py, quant.py)")
    ap.add_argument("--bits", type=int, default=4)
    ap.add_argument("--group", type=int, default=-1, help="-1 = one group per output row")
    ap.add_argument("--orders", type=int, default=4, help="shuffled orders besides the file's own")
    ap.add_argument("--first-order", type=int, default=0)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--dense", action="store_true", help="also print the dense model's perplexity")
    ap.add_argument("--no-act-order", action="store_true", help="columns in their own order")
    ap.add_argument("--no-true-sequential", action="store_true",
                    help="statistics of all 7 linears from one forward of the block")
    ap.add_argument("--load-dtype", default="float32", choices=["float32", "bfloat16"],
                    help="dtype the model is loaded and run in")
    ap.add_argument("--attn", default="sdpa", choices=["sdpa", "eager"], help="attention implementation")
    ap.add_argument("--anchor-ppl", type=float, help="the row's reference perplexity (peer_anchors.json)")
    ap.add_argument("--dense-ppl", type=float, help="the dense perplexity the increase is measured from")
    return ap.parse_args()


def read_calib(path, torch):
    from safetensors.torch import load_file
    ids = load_file(path)["input_ids"]
    if ids.dim() != 2:
        sys.exit(f"{path}: input_ids has shape {list(ids.shape)}, expected [N, L]")
    return ids.long()


def heldout_ids(shared, tokenizer, torch):
    path = os.path.join(shared, "data", "corpus", "heldout_dev.jsonl")
    with open(path, encoding="utf-8") as f:
        text = "\n\n".join(json.loads(line)["text"] for line in f if line.strip())
    ids = tokenizer(text, add_special_tokens=False).input_ids
    return torch.tensor([tokenizer.bos_token_id] + ids, dtype=torch.long)


def perplexity(model, ids, ctx, torch):
    """Window protocol: non-overlapping windows of ctx tokens, the first token of each unscored."""
    windows = ids.numel() // ctx
    nll, scored = 0.0, 0
    dev = next(model.parameters()).device
    with torch.no_grad():
        for w in range(windows):
            x = ids[w * ctx:(w + 1) * ctx].unsqueeze(0).to(dev)
            logp = torch.log_softmax(model(x).logits[0, :-1].float(), dim=-1)
            nll -= logp.gather(1, x[0, 1:].unsqueeze(1)).double().sum().item()
            scored += ctx - 1
    return math.exp(nll / scored)


def capture_layer0_inputs(model, calib, torch):
    """Hidden states entering block 0 for every window, and the keyword arguments the model passes to its
    decoder layers (mask, positions, rotary tables), caught by a pre-hook that stops the forward."""
    layers = model.model.layers
    dev = next(model.parameters()).device
    inps = torch.zeros((calib.shape[0], calib.shape[1], model.config.hidden_size), device=dev,
                       dtype=next(model.parameters()).dtype)
    caught = {}

    class Stop(Exception):
        pass

    def hook(_, args, kwargs):
        hidden = args[0] if args else kwargs["hidden_states"]
        inps[caught.setdefault("i", 0)] = hidden[0]
        caught["i"] += 1
        caught["kwargs"] = {k: v for k, v in kwargs.items() if k != "hidden_states"}
        raise Stop

    handle = layers[0].register_forward_pre_hook(hook, with_kwargs=True)
    for row in calib:
        try:
            model(row.unsqueeze(0).to(dev))
        except Stop:
            pass
    handle.remove()
    return inps, caught["kwargs"]


def layer_out(layer, x, kwargs):
    out = layer(x.unsqueeze(0), **kwargs)
    return out[0]


def gptq_sequential(model, calib, a, GPTQ, Quantizer, torch):
    """IST-DASLab/gptq llama_sequential; by default --true-sequential --act-order (no static groups)."""
    model.config.use_cache = False
    inps, kwargs = capture_layer0_inputs(model, calib, torch)
    outs = torch.zeros_like(inps)
    sequential = [["self_attn.k_proj", "self_attn.v_proj", "self_attn.q_proj"], ["self_attn.o_proj"],
                  ["mlp.up_proj", "mlp.gate_proj"], ["mlp.down_proj"]]
    if a.no_true_sequential:
        sequential = [[n for group in sequential for n in group]]
    with torch.no_grad():
        for layer in model.model.layers:
            modules = dict(layer.named_modules())
            for names in sequential:
                gptq = {}
                for name in names:
                    gptq[name] = GPTQ(modules[name])
                    gptq[name].quantizer = Quantizer()
                    gptq[name].quantizer.configure(a.bits, perchannel=True, sym=False, mse=False)
                handles = [modules[n].register_forward_hook(
                    lambda _, inp, out, n=n: gptq[n].add_batch(inp[0].data, out.data)) for n in names]
                for j in range(calib.shape[0]):
                    outs[j] = layer_out(layer, inps[j], kwargs)
                for h in handles:
                    h.remove()
                for name in names:
                    gptq[name].fasterquant(percdamp=0.01, groupsize=a.group, actorder=not a.no_act_order,
                                           static_groups=False)
                    gptq[name].free()
            for j in range(calib.shape[0]):
                outs[j] = layer_out(layer, inps[j], kwargs)
            inps, outs = outs, inps


def main():
    a = parse_args()
    sys.path.insert(0, os.path.abspath(a.gptq_repo))
    import contextlib
    import io
    import torch
    from transformers import AutoTokenizer, LlamaForCausalLM
    with contextlib.redirect_stdout(io.StringIO()):
        from gptq import GPTQ
        from quant import Quantizer
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    tokenizer = AutoTokenizer.from_pretrained(a.model)
    ids = heldout_ids(a.shared, tokenizer, torch)
    calib = read_calib(os.path.join(a.shared, "reference", "calib_128x512.safetensors"), torch)

    def load():
        dtype = getattr(torch, a.load_dtype)
        return LlamaForCausalLM.from_pretrained(a.model, dtype=dtype, attn_implementation=a.attn).to(dev).eval()

    info = {"device": torch.cuda.get_device_name() if dev.type == "cuda" else "cpu",
            "torch": torch.__version__, "bits": a.bits, "group": a.group, "act_order": not a.no_act_order,
            "true_sequential": not a.no_true_sequential, "dtype": a.load_dtype, "attn": a.attn}
    if a.dense:
        info["dense_ppl"] = perplexity(load(), ids, a.ctx, torch)
    print(json.dumps(info), flush=True)

    ppls = []
    for seed in range(a.first_order, a.first_order + a.orders + 1):
        model = load()
        t0 = time.time()
        with contextlib.redirect_stdout(io.StringIO()):
            gptq_sequential(model, calib[window_order(calib.shape[0], seed)], a, GPTQ, Quantizer, torch)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.time() - t0
        ppl = perplexity(model, ids, a.ctx, torch)
        ppls.append(ppl)
        print(json.dumps(order_line(seed, ppl, a.anchor_ppl, a.dense_ppl, seconds=round(seconds, 2))), flush=True)
    print(json.dumps(summary(ppls, a.anchor_ppl, a.dense_ppl)), flush=True)


if __name__ == "__main__":
    main()
