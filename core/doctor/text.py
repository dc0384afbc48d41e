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
    "detached-loss": {
        "en": "backward() was called on a loss that has no graph behind it: a new leaf tensor made from a "
              "number, such as torch.tensor(loss.item(), requires_grad=True), or a loss computed in NumPy "
              "and wrapped again. The gradient stops at that tensor and reaches no parameter, so the "
              "optimizer steps change nothing. Build the loss from the model's output tensors with torch "
              "operations, and keep .item(), float() and NumPy for logging.",
        "zh": "backward() 作用在一个背后没有计算图的损失上：它是由数字新建的叶子张量，例如 "
              "torch.tensor(loss.item(), requires_grad=True)，或在 NumPy 中算出后重新包装的损失。梯度停在这个"
              "张量上，到达不了任何参数，优化器的每一步都不会改变模型。请用 torch 运算从模型输出计算损失，"
              ".item()、float() 和 NumPy 只用于记录日志。",
    },
    "softmax-dim": {
        "en": "softmax or log_softmax here normalises over dimension 0 of an (N, C) batch: across the "
              "samples, not across the classes. Each sample's 'probabilities' then depend on the other "
              "samples in the batch and do not sum to one, and the loss trains the wrong thing. For (N, C) "
              "scores use dim=1 (or dim=-1): F.log_softmax(logits, dim=1), nn.Softmax(dim=1).",
        "zh": "这里的 softmax 或 log_softmax 在 (N, C) 批次的第 0 维上归一化：是在样本之间，而不是在类别之间。"
              "于是每个样本的“概率”取决于同一批次中的其他样本，各自也不再相加为一，损失训练的是错误的目标。"
              "对 (N, C) 的分数请使用 dim=1（或 dim=-1）：F.log_softmax(logits, dim=1)、nn.Softmax(dim=1)。",
    },
    "broadcast": {
        "en": "An elementwise operation on the way to the loss broadcast its operands into a bigger tensor "
              "than either: a prediction of shape (N, 1) against a target of shape (N,) gives (N, N), so "
              "every prediction is compared with every target. The loss still decreases a little, towards "
              "the mean target, and the model learns almost nothing. PyTorch warns about it only for some "
              "losses. Make the shapes equal first: pred.squeeze(-1), or target.view_as(pred).",
        "zh": "通往损失的逐元素运算把两个操作数广播成了比它们都大的张量：形状为 (N, 1) 的预测与形状为 (N,) "
              "的目标相减得到 (N, N)，每个预测都与每个目标比较。损失仍会略有下降（趋向目标均值），但模型几乎"
              "学不到东西。PyTorch 只对部分损失函数给出警告。请先让形状一致：pred.squeeze(-1) 或 "
              "target.view_as(pred)。",
    },
    "step-without-grad": {
        "en": "The optimizer stepped while its parameters' .grad was empty or zero, although the backward "
              "pass just before had computed gradients. Usually optimizer.zero_grad() sits between "
              "loss.backward() and optimizer.step(), so the gradients are thrown away before they are used "
              "and nothing learns. Clear the gradients before backward() (or right after step()), never "
              "between the two.",
        "zh": "优化器执行 step() 时参数的 .grad 为空或为零，而紧接在前的反向传播已经算出了梯度。通常是 "
              "optimizer.zero_grad() 被放在 loss.backward() 和 optimizer.step() 之间，梯度在使用前就被清掉了，"
              "模型什么也学不到。请在 backward() 之前（或 step() 之后）清零梯度，不要放在两者之间。",
    },
    "eval-mode": {
        "en": "The optimizer stepped while all of the model's dropout and batch-norm modules were in "
              "evaluation mode. Dropout then drops nothing and batch norm uses its running statistics "
              "instead of the batch's, so training behaves like inference and regularisation is lost. "
              "This usually follows model.eval() for validation without model.train() afterwards. Call "
              "model.train() at the start of every training epoch. Freezing only the batch-norm layers on "
              "purpose is not reported.",
        "zh": "优化器执行 step() 时，模型的所有 Dropout 和 BatchNorm 模块都处于评估模式。此时 Dropout "
              "不丢弃任何单元，BatchNorm 使用滑动统计量而不是当前批次的统计量，训练就像推理一样，失去了正则化。"
              "这通常是验证时调用了 model.eval() 之后没有再调用 model.train()。请在每个训练轮次开始时调用 "
              "model.train()。有意只冻结 BatchNorm 层的情况不会报告。",
    },
    "dead-units": {
        "en": "This layer's output is zero for every sample of the batch, iteration after iteration: a ReLU "
              "(or another activation with flat zero regions) that never fires. No gradient passes through "
              "it, so every parameter before it gets exactly zero gradient and stops learning. Typical "
              "causes are a large negative bias, weights of one sign on inputs of one sign, or a learning "
              "rate so large that one step pushed all pre-activations below zero. Fix the initialisation, "
              "normalise the inputs, lower the learning rate, or use LeakyReLU or GELU.",
        "zh": "这一层的输出在每次迭代中对批次的每个样本都为零：一个从不激活的 ReLU（或其他有平坦零区的激活函数）。"
              "梯度无法通过它，于是它之前的每个参数得到的梯度恰好为零，停止学习。常见原因有：很大的负偏置、"
              "同号输入上的同号权重，或学习率过大，一步就把所有激活前的值推到零以下。请修正初始化、对输入做归一化、"
              "降低学习率，或改用 LeakyReLU、GELU。",
    },
    "lr-too-small": {
        "en": "Every optimizer step changes the weights by less than a millionth of their size (the "
              "update/weight ratio; about 1e-3 is usual), over many steps, so the loss cannot move in any "
              "reasonable time. A warm-up that is still rising, a schedule that decayed to zero and frozen "
              "weights are not counted. Raise the learning rate (1e-3 is a common start for Adam, 1e-2 to "
              "1e-1 for SGD), and check the scheduler's factor and the scale of the loss.",
        "zh": "在很多步里，每一步优化对权重的改变都不到其大小的百万分之一（更新/权重比，通常约为 1e-3），"
              "损失在合理的时间内无法下降。仍在上升的预热、衰减到零的学习率调度和被冻结的权重不计在内。"
              "请提高学习率（Adam 常从 1e-3 开始，SGD 常用 1e-2 到 1e-1），并检查调度器的系数和损失的尺度。",
    },
    "exploding": {
        "en": "The loss or the gradients grow by orders of magnitude: training diverges and soon reaches "
              "Inf or NaN. (Each step changing the weights by a large part of their size, with an "
              "update/weight ratio far above the usual 1e-3, is shown as info only: healthy runs with batch "
              "norm and momentum do that too.) Lower the learning rate, 10x at a time. Normalise the inputs, "
              "check the loss scale (sum vs mean), and clip gradients (clip_grad_norm_) in deep or "
              "recurrent nets.",
        "zh": "损失或梯度按数量级增长：训练发散，很快会出现 Inf 或 NaN。（每一步对权重的改变占其大小的很大"
              "比例、更新/权重比远高于通常的 1e-3 时，只作为提示：使用 BatchNorm 和动量的健康训练也会如此。）请降低学习率（每次降 10 倍），对输入做归一化，检查损失"
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
