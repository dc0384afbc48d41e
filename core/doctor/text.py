"""One paragraph per doctor code, with the fix, in English and Chinese (shown beside a finding)."""

from __future__ import annotations

EXPLAIN = {
    "grad-accumulates": {
        "en": "PyTorch adds every backward pass's gradient into each parameter's .grad; nothing clears it "
              "for you. Without optimizer.zero_grad() each step uses the sum of all gradients so far, so "
              "the steps grow and point the wrong way. Call optimizer.zero_grad() once per step. If you "
              "accumulate on purpose over several batches, zero right after the step.",
        "zh": "PyTorch 会把每次反向传播的梯度累加到参数的 .grad 中，不会自动清零。没有调用 "
              "optimizer.zero_grad() 时，每一步更新用的是至今所有梯度之和，步长越来越大、方向也不对。"
              "请每一步调用一次 optimizer.zero_grad()；若有意在多个批次上累积梯度，请在 step() 之后立即清零。",
    },
    "not-optimized": {
        "en": "This parameter gets a gradient on every backward pass, but no optimizer holds it, so "
              "step() never changes it: it stays at its initial value. This often happens when the "
              "optimizer is built from part of the model (a backbone) and a head is added later. Pass all "
              "the parameters to the optimizer (model.parameters()). If it should stay fixed, freeze it with "
              "requires_grad_(False).",
        "zh": "这个参数每次反向传播都得到梯度，但没有任何优化器持有它，step() 从不更新它，它一直保持初始值。"
              "常见原因是优化器只用模型的一部分（如主干）构建，后来又加了一个输出头。请把所有参数交给优化器"
              "（model.parameters()）；若它本应固定，请用 requires_grad_(False) 冻结。",
    },
    "no-grad": {
        "en": "This parameter is in an optimizer but never receives a gradient. Either it is not used in "
              "the forward pass, or its output is cut off from the loss by detach(), torch.no_grad(), .data "
              "or a conversion to NumPy. Its layer does not learn. Remove the cut between it and the loss. "
              "If freezing it is intended, set requires_grad_(False) and leave it out of the optimizer.",
        "zh": "这个参数在优化器中，却从未得到梯度：要么前向传播没有用到它，要么它的输出被 detach()、"
              "torch.no_grad()、.data 或转成 NumPy 与损失断开了。这一层不会学习。请去掉它与损失之间的断点；"
              "若本意就是冻结，请设置 requires_grad_(False) 并把它移出优化器。",
    },
    "double-softmax": {
        "en": "cross_entropy (nn.CrossEntropyLoss) applies log_softmax itself and expects raw scores "
              "(logits). Here its input already went through softmax or log_softmax, so the probabilities "
              "are squashed twice. The loss barely moves and the gradients are tiny. Remove the softmax "
              "before the loss (keep it only for predictions), or use log_softmax followed by nll_loss.",
        "zh": "cross_entropy（nn.CrossEntropyLoss）内部已经做了 log_softmax，它需要的是原始分数（logits）。"
              "这里的输入已经过 softmax 或 log_softmax，概率被压缩了两次，损失几乎不降，梯度很小。"
              "请去掉损失之前的 softmax（只在预测时使用），或改用 log_softmax 加 nll_loss。",
    },
    "exploding": {
        "en": "The loss or the gradients grow by orders of magnitude, or each step changes the weights by "
              "a large part of their size (a healthy update/weight ratio is near 1e-3). Training diverges "
              "and soon reaches Inf or NaN. Lower the learning rate, 10x at a time. Normalise the inputs, "
              "check the loss scale (sum vs mean), and clip gradients (clip_grad_norm_) in deep or "
              "recurrent nets.",
        "zh": "损失或梯度按数量级增长，或者每一步对权重的改变占其大小的很大比例（健康的更新/权重比约为 "
              "1e-3）。训练发散，很快会出现 Inf 或 NaN。请降低学习率（每次降 10 倍），对输入做归一化，检查损失"
              "的尺度（sum 还是 mean），深层或循环网络请做梯度裁剪（clip_grad_norm_）。",
    },
    "vanishing": {
        "en": "In this deep stack the gradient reaching the first layers is zero, or many orders of "
              "magnitude smaller than at the last layers. Each saturating activation (sigmoid, tanh) and "
              "each small weight shrinks it further, so the early layers barely learn. Use ReLU-family "
              "activations and a proper init (kaiming for ReLU, xavier for tanh). Normalisation layers or "
              "residual connections also help.",
        "zh": "在这个深层网络中，到达前几层的梯度为零，或比最后几层小好几个数量级。每个饱和激活函数"
              "（sigmoid、tanh）和每个很小的权重都会让它继续变小，于是前面的层几乎学不到东西。请使用 ReLU "
              "类激活函数和合适的初始化（ReLU 用 kaiming，tanh 用 xavier），也可以加归一化层或残差连接。",
    },
    "nonfinite": {
        "en": "A NaN or Inf appeared in the loss, a gradient or a value (even one nan_to_num or a mask hid "
              "later); every parameter it reaches is then ruined. "
              "The finding names the op where it began and your line that called it. Typical causes are "
              "log or division at zero, sqrt of a negative number, exp overflow and a too large learning "
              "rate. Guard the op (x.clamp_min(eps)), use the stable form (log_softmax, "
              "BCEWithLogitsLoss), or lower the learning rate.",
        "zh": "损失、梯度或某个数值中出现了 NaN 或 Inf（即使之后被 nan_to_num 或掩码遮住），它传到的每个参数都会被破坏。这条诊断指出它最早出现的算子和"
              "调用它的代码行。常见原因有：对 0 取对数或做除法、对负数开方、exp 溢出、学习率过大。请保护这个"
              "算子（x.clamp_min(eps)），使用数值稳定的写法（log_softmax、BCEWithLogitsLoss），或降低学习率。",
    },
    "ranks-diverge": {
        "en": "In data-parallel training every rank must hold the same parameters after each step. Here "
              "one rank's parameters differ from another's, so the replicas train different models. Usual "
              "causes: the gradients are not all-reduced (no DistributedDataParallel wrapper, or a "
              "parameter it does not see), the ranks were seeded or initialised differently, or one rank "
              "skipped a step. Wrap the model in DistributedDataParallel, broadcast the initial weights and "
              "seed every rank the same way.",
        "zh": "数据并行训练中，每一步之后所有进程（rank）的参数必须相同。这里某个 rank 的参数与其他 rank 不同，"
              "各副本在训练不同的模型。常见原因：梯度没有全归约（未用 DistributedDataParallel 包装，或有它看不到"
              "的参数），各 rank 的随机种子或初始化不同，或某个 rank 跳过了一步。请用 "
              "DistributedDataParallel 包装模型，广播初始权重，并为每个 rank 设置相同的种子。",
    },
}


def explain(code: str, lang: str = "en") -> str:
    """The explanation of `code` in `lang` ('en' or 'zh'; English for any other)."""
    text = EXPLAIN[code]
    return text.get(lang, text["en"])
