<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AgreementLabel</name>
    <message>
        <source>ranks agree ({count} updates compared)</source>
        <translation>各 rank 一致（已比较 {count} 次更新）</translation>
    </message>
    <message>
        <source>Every rank&apos;s parameters got the same update in each compared optimizer step</source>
        <translation>在每个已比较的优化器步骤中，所有 rank 的参数得到相同的更新</translation>
    </message>
    <message>
        <source>ranks diverge at iteration {index}: {param}</source>
        <translation>各 rank 在第 {index} 次迭代出现分歧：{param}</translation>
    </message>
    <message>
        <source>Update norms by rank: {norms}. Under DDP every rank must apply the same update (call the DDP-wrapped model, not model.module; no rank-dependent learning rate; SyncBatchNorm).</source>
        <translation>各 rank 的更新范数：{norms}。在 DDP 下每个 rank 必须应用相同的更新（调用 DDP 包装后的模型而不是 model.module；学习率不能依赖 rank；使用 SyncBatchNorm）。</translation>
    </message>
</context>
<context>
    <name>Bridge</name>
    <message>
        <source>lost the connection to the script: {error}</source>
        <translation>与脚本的连接已断开：{error}</translation>
    </message>
    <message>
        <source>unreadable iteration: {error}</source>
        <translation>无法读取的迭代：{error}</translation>
    </message>
</context>
<context>
    <name>ConsoleView</name>
    <message>
        <source>Script output appears here.</source>
        <translation>脚本的输出显示在这里。</translation>
    </message>
    <message>
        <source>  at </source>
        <translation>  位于 </translation>
    </message>
    <message>
        <source>[... {count} lines skipped (output too fast) ...]</source>
        <translation>[……跳过了 {count} 行（输出过快）……]</translation>
    </message>
</context>
<context>
    <name>ControlsToolbar</name>
    <message>
        <source>Run</source>
        <translation>运行</translation>
    </message>
    <message>
        <source>Run the script (in a recording: play it back)</source>
        <translation>运行脚本（录制文件中：回放）</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Pause at the next pause point</source>
        <translation>在下一个暂停点暂停</translation>
    </message>
    <message>
        <source>Step iteration</source>
        <translation>单步迭代</translation>
    </message>
    <message>
        <source>Run to the end of the next backward pass</source>
        <translation>运行到下一次反向传播结束</translation>
    </message>
    <message>
        <source>Step phase</source>
        <translation>单步阶段</translation>
    </message>
    <message>
        <source>Run to the next phase: backward begin/end, optimizer before/after</source>
        <translation>运行到下一个阶段：反向传播开始/结束，优化器更新前/后</translation>
    </message>
    <message>
        <source>Step backward node</source>
        <translation>单步反向节点</translation>
    </message>
    <message>
        <source>Compute the gradient of the next node of the backward pass (in autograd&apos;s order)</source>
        <translation>计算反向传播中下一个节点的梯度（按 autograd 的顺序）</translation>
    </message>
    <message>
        <source>Step forward op</source>
        <translation>单步前向算子</translation>
    </message>
    <message>
        <source>Run the forward pass one operation at a time</source>
        <translation>逐个算子地执行前向传播</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop the script (the recording keeps every finished iteration)</source>
        <translation>停止脚本（录制文件保留所有已完成的迭代）</translation>
    </message>
    <message>
        <source>Restart</source>
        <translation>重新开始</translation>
    </message>
    <message>
        <source>Run the script again from the start</source>
        <translation>从头重新运行脚本</translation>
    </message>
    <message>
        <source>full speed</source>
        <translation>全速</translation>
    </message>
    <message>
        <source>10 it/s</source>
        <translation>10 次迭代/秒</translation>
    </message>
    <message>
        <source>2 it/s</source>
        <translation>2 次迭代/秒</translation>
    </message>
    <message>
        <source>1 it/s</source>
        <translation>1 次迭代/秒</translation>
    </message>
    <message>
        <source>0.5 it/s</source>
        <translation>0.5 次迭代/秒</translation>
    </message>
    <message>
        <source>Controls</source>
        <translation>控制</translation>
    </message>
    <message>
        <source>Speed</source>
        <translation>速度</translation>
    </message>
    <message>
        <source>Run speed: slow it down to watch each iteration (and its backward) in a lecture</source>
        <translation>运行速度：在课堂上放慢速度，以便观察每次迭代（及其反向传播）</translation>
    </message>
    <message>
        <source>Detail</source>
        <translation>详细程度</translation>
    </message>
    <message>
        <source>What each iteration records: auto (full where the overhead budget allows, light elsewhere), full (every node&apos;s values and gradients), light (the graph, parameter gradient norms, NaN/Inf)</source>
        <translation>每次迭代记录的内容：auto（开销预算允许时记录 full，否则记录 light），full（每个节点的值和梯度），light（计算图、参数梯度范数、NaN/Inf）</translation>
    </message>
</context>
<context>
    <name>DiagnosticsView</name>
    <message>
        <source>info</source>
        <translation>提示</translation>
    </message>
    <message>
        <source>warning</source>
        <translation>警告</translation>
    </message>
    <message>
        <source>error</source>
        <translation>错误</translation>
    </message>
    <message>
        <source>Level</source>
        <translation>级别</translation>
    </message>
    <message>
        <source>Code</source>
        <translation>代码</translation>
    </message>
    <message>
        <source>Iteration</source>
        <translation>迭代</translation>
    </message>
    <message>
        <source>Subject</source>
        <translation>对象</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>说明</translation>
    </message>
    <message>
        <source>Diagnostics ({count})</source>
        <translation>诊断 ({count})</translation>
    </message>
    <message>
        <source>Diagnostics</source>
        <translation>诊断</translation>
    </message>
    <message>
        <source>The doctor could not read the recording: {error}</source>
        <translation>诊断无法读取记录：{error}</translation>
    </message>
    <message>
        <source>The training doctor lists the classic training bugs it finds here, as the script runs or when a recording is opened.</source>
        <translation>训练诊断会在脚本运行时或打开记录时，在这里列出它发现的典型训练错误。</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>正在检查…</translation>
    </message>
    <message>
        <source>No problems found in {count} iterations.</source>
        <translation>在 {count} 次迭代中未发现问题。</translation>
    </message>
    <message>
        <source>{count} finding(s) in {checked} iterations. Click one to show its iteration and node.</source>
        <translation>在 {checked} 次迭代中发现 {count} 个问题。点击一项可显示它的迭代和节点。</translation>
    </message>
    <message>
        <source>iteration {index}</source>
        <translation>第 {index} 次迭代</translation>
    </message>
    <message>
        <source>Fix:</source>
        <translation>修正：</translation>
    </message>
</context>
<context>
    <name>GraphView</name>
    <message>
        <source>origin unknown</source>
        <translation>来源未知</translation>
    </message>
    <message>
        <source>first at {what}, {source}</source>
        <translation>最早出现在 {what}，{source}</translation>
    </message>
    <message>
        <source>first at {what}, source line not recorded</source>
        <translation>最早出现在 {what}，未记录源代码行</translation>
    </message>
    <message>
        <source>laying out {count} nodes…</source>
        <translation>正在布局 {count} 个节点…</translation>
    </message>
    <message>
        <source>drawing {count} boxes…</source>
        <translation>正在绘制 {count} 个方框…</translation>
    </message>
    <message>
        <source>All modules</source>
        <translation>全部模块</translation>
    </message>
    <message>
        <source>Collapse (Backspace)</source>
        <translation>折叠（Backspace）</translation>
    </message>
    <message>
        <source>iteration {index}: the graph changed: {count} new node(s) marked NEW</source>
        <translation>第 {index} 次迭代：计算图发生了变化：{count} 个新节点标为“新”</translation>
    </message>
    <message>
        <source>iteration {index}: the graph changed</source>
        <translation>第 {index} 次迭代：计算图发生了变化</translation>
    </message>
    <message>
        <source>removed: {nodes}</source>
        <translation>已移除：{nodes}</translation>
    </message>
    <message>
        <source>NaN/Inf in {count} node(s); {origin}</source>
        <translation>{count} 个节点含 NaN/Inf；{origin}</translation>
    </message>
    <message>
        <source>Expand {module}</source>
        <translation>展开 {module}</translation>
    </message>
    <message>
        <source>Collapse {module}</source>
        <translation>折叠 {module}</translation>
    </message>
    <message>
        <source>Fit to view</source>
        <translation>适应窗口</translation>
    </message>
    <message>
        <source>Collapse all modules</source>
        <translation>折叠所有模块</translation>
    </message>
    <message>
        <source>Expand all modules</source>
        <translation>展开所有模块</translation>
    </message>
    <message>
        <source>Animate backward</source>
        <translation>反向传播动画</translation>
    </message>
</context>
<context>
    <name>InspectorView</name>
    <message>
        <source>value</source>
        <translation>值</translation>
    </message>
    <message>
        <source>gradient</source>
        <translation>梯度</translation>
    </message>
    <message>
        <source>Tensor:</source>
        <translation>张量：</translation>
    </message>
    <message>
        <source>kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>module</source>
        <translation>模块</translation>
    </message>
    <message>
        <source>source</source>
        <translation>源代码</translation>
    </message>
    <message>
        <source>tensor</source>
        <translation>张量</translation>
    </message>
    <message>
        <source>inputs</source>
        <translation>输入</translation>
    </message>
    <message>
        <source>used by</source>
        <translation>被使用于</translation>
    </message>
    <message>
        <source>iteration</source>
        <translation>迭代</translation>
    </message>
    <message>
        <source>{index} ({detail} detail)</source>
        <translation>{index}（{detail} 详细程度）</translation>
    </message>
    <message>
        <source>.grad (accumulated)</source>
        <translation>.grad（累积）</translation>
    </message>
    <message>
        <source>class</source>
        <translation>类</translation>
    </message>
    <message>
        <source>parameters</source>
        <translation>参数</translation>
    </message>
    <message>
        <source>max ‖grad‖</source>
        <translation>最大 ‖grad‖</translation>
    </message>
    <message>
        <source>Double-click the box to open the module.</source>
        <translation>双击方框展开该模块。</translation>
    </message>
    <message>
        <source>Nothing selected</source>
        <translation>未选择任何内容</translation>
    </message>
    <message>
        <source>Select a node in the graph to see its values and gradients.</source>
        <translation>在计算图中选择一个节点，查看它的值和梯度。</translation>
    </message>
    <message>
        <source>Node {node} is not in iteration {index}</source>
        <translation>节点 {node} 不在第 {index} 次迭代中</translation>
    </message>
    <message>
        <source>The graph changed; select a node of the current graph.</source>
        <translation>计算图已变化；请选择当前计算图中的节点。</translation>
    </message>
    <message>
        <source>Iteration {index}</source>
        <translation>第 {index} 次迭代</translation>
    </message>
    <message>
        <source>loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <source>nodes</source>
        <translation>节点数</translation>
    </message>
    <message>
        <source>edges</source>
        <translation>边数</translation>
    </message>
    <message>
        <source>detail</source>
        <translation>详细程度</translation>
    </message>
    <message>
        <source>optimizer steps</source>
        <translation>优化器步数</translation>
    </message>
    <message>
        <source>NaN/Inf nodes</source>
        <translation>含 NaN/Inf 的节点</translation>
    </message>
    <message>
        <source>Select a node in the graph to inspect it.</source>
        <translation>在计算图中选择一个节点进行查看。</translation>
    </message>
    <message>
        <source>{name}: all {count} elements</source>
        <translation>{name}：全部 {count} 个元素</translation>
    </message>
    <message>
        <source>{name}: all {count} element</source>
        <translation>{name}：全部 {count} 个元素</translation>
    </message>
    <message>
        <source>{name}: {count} elements; only tensors of up to 64 keep their values</source>
        <translation>{name}：{count} 个元素；只有不超过 64 个元素的张量会保留数值</translation>
    </message>
    <message>
        <source>{name}: not recorded for this node at this detail level</source>
        <translation>{name}：在此详细程度下未记录该节点</translation>
    </message>
    <message>
        <source>{loss} (backward under way)</source>
        <translation>{loss}（反向传播进行中）</translation>
    </message>
    <message>
        <source>gradient scale</source>
        <translation>梯度缩放</translation>
    </message>
    <message>
        <source>×{scale} (GradScaler): the graph&apos;s gradients are scaled; the loss and the parameter gradient norms in the plots are unscaled</source>
        <translation>×{scale}（GradScaler）：计算图中的梯度经过缩放；图表中的损失和参数梯度范数未缩放</translation>
    </message>
</context>
<context>
    <name>LayoutJob</name>
    <message>
        <source>layout failed: {error}</source>
        <translation>布局失败：{error}</translation>
    </message>
</context>
<context>
    <name>Legend</name>
    <message>
        <source>op</source>
        <translation>算子</translation>
    </message>
    <message>
        <source>parameter</source>
        <translation>参数</translation>
    </message>
    <message>
        <source>leaf</source>
        <translation>叶子节点</translation>
    </message>
    <message>
        <source>custom Function</source>
        <translation>自定义 Function</translation>
    </message>
    <message>
        <source>module</source>
        <translation>模块</translation>
    </message>
    <message>
        <source>gradient norm ‖grad‖ (log scale)</source>
        <translation>梯度范数 ‖grad‖（对数刻度）</translation>
    </message>
    <message>
        <source>gradient norm: none yet</source>
        <translation>梯度范数：暂无</translation>
    </message>
</context>
<context>
    <name>LessonPanel</name>
    <message>
        <source>Narration language (the interface keeps the language it was started with: --lang)</source>
        <translation>讲解语言（界面保持启动时的语言：--lang）</translation>
    </message>
</context>
<context>
    <name>MainMenus</name>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>Open script…</source>
        <translation>打开脚本…</translation>
    </message>
    <message>
        <source>Trace a Python training script</source>
        <translation>追踪一个 Python 训练脚本</translation>
    </message>
    <message>
        <source>Open recording…</source>
        <translation>打开录制文件…</translation>
    </message>
    <message>
        <source>Replay a .bps recording</source>
        <translation>回放一个 .bps 录制文件</translation>
    </message>
    <message>
        <source>Run distributed…</source>
        <translation>分布式运行…</translation>
    </message>
    <message>
        <source>Trace a torchrun / DDP script as N ranks, every rank live</source>
        <translation>以 N 个 rank 追踪 torchrun / DDP 脚本，每个 rank 都实时显示</translation>
    </message>
    <message>
        <source>Recent files</source>
        <translation>最近的文件</translation>
    </message>
    <message>
        <source>Save recording as…</source>
        <translation>录制文件另存为…</translation>
    </message>
    <message>
        <source>Keep this live run&apos;s recording (it is deleted when the run is closed)</source>
        <translation>保留本次实时运行的录制文件（否则关闭运行时会被删除）</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Export the run: JSON, CSV of scalars, or the shown iteration&apos;s graph as DOT/SVG/PNG</source>
        <translation>导出本次运行：JSON、标量的 CSV，或当前迭代的计算图（DOT/SVG/PNG）</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <source>&amp;Breakpoints</source>
        <translation>断点(&amp;B)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>Presentation mode</source>
        <translation>演示模式</translation>
    </message>
    <message>
        <source>Large fonts and high contrast for lectures</source>
        <translation>适合授课的大字体和高对比度</translation>
    </message>
    <message>
        <source>Panels</source>
        <translation>面板</translation>
    </message>
    <message>
        <source>Show or hide the inspector, plots, console and diagnostics (presentation mode hides them)</source>
        <translation>显示或隐藏检查器、图表、控制台和诊断（演示模式下隐藏）</translation>
    </message>
    <message>
        <source>Theme</source>
        <translation>主题</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <source>Narration language</source>
        <translation>讲解语言</translation>
    </message>
    <message>
        <source>The lessons&apos; narration; the menus and panels keep the language the app was started with (--lang)</source>
        <translation>课程的讲解文字；菜单和面板保持应用启动时的语言（--lang）</translation>
    </message>
    <message>
        <source>Fit to view</source>
        <translation>适应窗口</translation>
    </message>
    <message>
        <source>Show the whole graph</source>
        <translation>显示整个计算图</translation>
    </message>
    <message>
        <source>Zoom in</source>
        <translation>放大</translation>
    </message>
    <message>
        <source>Zoom out</source>
        <translation>缩小</translation>
    </message>
    <message>
        <source>Collapse all modules</source>
        <translation>折叠所有模块</translation>
    </message>
    <message>
        <source>One box per module</source>
        <translation>每个模块一个方框</translation>
    </message>
    <message>
        <source>Expand all modules</source>
        <translation>展开所有模块</translation>
    </message>
    <message>
        <source>Every node of the graph</source>
        <translation>显示计算图的每个节点</translation>
    </message>
    <message>
        <source>Animate backward</source>
        <translation>反向传播动画</translation>
    </message>
    <message>
        <source>Replay the shown backward pass node by node, loss first</source>
        <translation>逐个节点回放当前的反向传播，从损失开始</translation>
    </message>
    <message>
        <source>Find node…</source>
        <translation>查找节点…</translation>
    </message>
    <message>
        <source>&amp;Lessons</source>
        <translation>课程(&amp;L)</translation>
    </message>
    <message>
        <source>(the lesson index could not be read)</source>
        <translation>（无法读取课程目录）</translation>
    </message>
    <message>
        <source>Graph</source>
        <translation>计算图</translation>
    </message>
    <message>
        <source>Find node by name, op or module (Ctrl+F)</source>
        <translation>按名称、算子或模块查找节点（Ctrl+F）</translation>
    </message>
    <message>
        <source>Highlights matching nodes and centres on the first; Enter jumps to the next</source>
        <translation>高亮匹配的节点并将第一个居中；按 Enter 跳到下一个</translation>
    </message>
    <message>
        <source>{count} node(s) match {text}</source>
        <translation>{count} 个节点匹配 {text}</translation>
    </message>
    <message>
        <source>Fit</source>
        <translation>适应</translation>
    </message>
    <message>
        <source>Fit the graph to the view (Ctrl+0)</source>
        <translation>使计算图适应窗口（Ctrl+0）</translation>
    </message>
    <message>
        <source>Collapse modules</source>
        <translation>折叠模块</translation>
    </message>
    <message>
        <source>One box per module (Ctrl+Shift+C)</source>
        <translation>每个模块一个方框（Ctrl+Shift+C）</translation>
    </message>
    <message>
        <source>Expand modules</source>
        <translation>展开模块</translation>
    </message>
    <message>
        <source>Show every node (Ctrl+Shift+X)</source>
        <translation>显示每个节点（Ctrl+Shift+X）</translation>
    </message>
    <message>
        <source>Pause on NaN/Inf</source>
        <translation>遇到 NaN/Inf 时暂停</translation>
    </message>
    <message>
        <source>Pause at the end of the first backward pass with a NaN or Inf</source>
        <translation>在第一次出现 NaN 或 Inf 的反向传播结束时暂停</translation>
    </message>
    <message>
        <source>Pause when the loss exceeds…</source>
        <translation>损失超过阈值时暂停…</translation>
    </message>
    <message>
        <source>Pause when the loss exceeds</source>
        <translation>损失超过此值时暂停</translation>
    </message>
    <message>
        <source>Pause when the gradient norm exceeds…</source>
        <translation>梯度范数超过阈值时暂停…</translation>
    </message>
    <message>
        <source>Pause when the gradient norm exceeds</source>
        <translation>梯度范数超过此值时暂停</translation>
    </message>
    <message>
        <source>Clear thresholds</source>
        <translation>清除阈值断点</translation>
    </message>
    <message>
        <source>(none yet)</source>
        <translation>（暂无）</translation>
    </message>
    <message>
        <source>recording</source>
        <translation>录制文件</translation>
    </message>
    <message>
        <source>script</source>
        <translation>脚本</translation>
    </message>
    <message>
        <source>Open a training script</source>
        <translation>打开训练脚本</translation>
    </message>
    <message>
        <source>Python scripts (*.py)</source>
        <translation>Python 脚本 (*.py)</translation>
    </message>
    <message>
        <source>no live run to save (a replayed recording is already a file)</source>
        <translation>没有可保存的实时运行（回放的录制文件已经是文件）</translation>
    </message>
    <message>
        <source>Save the recording</source>
        <translation>保存录制文件</translation>
    </message>
    <message>
        <source>Backprop Studio recordings (*.bps)</source>
        <translation>Backprop Studio 录制文件 (*.bps)</translation>
    </message>
    <message>
        <source>could not save {path}: {error}</source>
        <translation>无法保存 {path}：{error}</translation>
    </message>
    <message>
        <source>saved {path}</source>
        <translation>已保存 {path}</translation>
    </message>
    <message>
        <source>Open a recording</source>
        <translation>打开录制文件</translation>
    </message>
    <message>
        <source>nothing to export yet: open a script, a lesson or a recording</source>
        <translation>暂无可导出的内容：请先打开脚本、课程或录制文件</translation>
    </message>
    <message>
        <source>JSON (*.json);;CSV of scalars (*.csv);;Graph as DOT (*.dot);;Graph as SVG (*.svg);;Graph as PNG (*.png)</source>
        <translation>JSON (*.json);;标量 CSV (*.csv);;计算图 DOT (*.dot);;计算图 SVG (*.svg);;计算图 PNG (*.png)</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>unknown export format {format}: use one of {formats}</source>
        <translation>未知的导出格式 {format}：请使用 {formats} 之一</translation>
    </message>
    <message>
        <source>export failed: {error}</source>
        <translation>导出失败：{error}</translation>
    </message>
    <message>
        <source>exported {path}</source>
        <translation>已导出 {path}</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>live</source>
        <translation>实时</translation>
    </message>
    <message>
        <source>replay</source>
        <translation>回放</translation>
    </message>
    <message>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source>idle</source>
        <translation>空闲</translation>
    </message>
    <message>
        <source>finished</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>已失败</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>forward</source>
        <translation>前向</translation>
    </message>
    <message>
        <source>backward</source>
        <translation>反向</translation>
    </message>
    <message>
        <source>backward done</source>
        <translation>反向完成</translation>
    </message>
    <message>
        <source>optimizer</source>
        <translation>优化器</translation>
    </message>
    <message>
        <source>optimizer done</source>
        <translation>优化器更新完成</translation>
    </message>
    <message>
        <source>Inspector</source>
        <translation>检查器</translation>
    </message>
    <message>
        <source>Plots</source>
        <translation>图表</translation>
    </message>
    <message>
        <source>Console</source>
        <translation>控制台</translation>
    </message>
    <message>
        <source>Diagnostics</source>
        <translation>诊断</translation>
    </message>
    <message>
        <source>the lesson index could not be read</source>
        <translation>无法读取课程目录</translation>
    </message>
    <message>
        <source>loss {loss}, </source>
        <translation>损失 {loss}，</translation>
    </message>
    <message>
        <source>the graph shown is iteration {index}</source>
        <translation>显示的是第 {index} 次迭代的计算图</translation>
    </message>
    <message>
        <source>no earlier iteration has one</source>
        <translation>之前的迭代都没有计算图</translation>
    </message>
    <message>
        <source>iteration {index}: {loss}no graph kept (recorded by an older version); {where}</source>
        <translation>第 {index} 次迭代：{loss}未保存计算图（由旧版本录制）；{where}</translation>
    </message>
    <message>
        <source>breakpoints: {conditions}</source>
        <translation>断点：{conditions}</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>detail {detail} from the next iteration on</source>
        <translation>从下一次迭代起使用 {detail} 详细程度</translation>
    </message>
    <message>
        <source>source unknown</source>
        <translation>源代码位置未知</translation>
    </message>
    <message>
        <source>the loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <source>breakpoint: {reason} at iteration {index}: {what} ({where})</source>
        <translation>断点：第 {index} 次迭代触发 {reason}：{what}（{where}）</translation>
    </message>
    <message>
        <source>This lesson builds no autograd graph: it is about tensors themselves (no backward pass ran).
Their values and shapes are printed in the console below.</source>
        <translation>本课程不构建 autograd 计算图：它讲的是张量本身（没有运行反向传播）。
张量的值和形状打印在下方的控制台中。</translation>
    </message>
    <message>
        <source>The script finished without a backward pass: there is no autograd graph to show.
Its output is in the console below.</source>
        <translation>脚本已结束，但没有运行反向传播：没有可显示的 autograd 计算图。
它的输出在下方的控制台中。</translation>
    </message>
    <message>
        <source>script {status}</source>
        <translation>脚本{status}</translation>
    </message>
    <message>
        <source>no script</source>
        <translation>没有脚本</translation>
    </message>
    <message>
        <source>iteration {index} (under way)</source>
        <translation>第 {index} 次迭代（进行中）</translation>
    </message>
    <message>
        <source>iteration {index} / {last}</source>
        <translation>迭代 {index} / {last}</translation>
    </message>
    <message>
        <source>iteration –</source>
        <translation>迭代 –</translation>
    </message>
    <message>
        <source>phase: {phase}</source>
        <translation>阶段：{phase}</translation>
    </message>
    <message>
        <source>optimizer steps: {count}</source>
        <translation>优化器步数：{count}</translation>
    </message>
    <message>
        <source>{rate} it/s</source>
        <translation>{rate} 次迭代/秒</translation>
    </message>
</context>
<context>
    <name>NodeItem</name>
    <message>
        <source>{count} parameters</source>
        <translation>{count} 个参数</translation>
    </message>
    <message>
        <source>{count} nodes (collapsed)</source>
        <translation>{count} 个节点（已折叠）</translation>
    </message>
    <message>
        <source>max ‖grad‖ {norm}</source>
        <translation>最大 ‖grad‖ {norm}</translation>
    </message>
    <message>
        <source>module {module}: {count} nodes (double-click to expand)</source>
        <translation>模块 {module}：{count} 个节点（双击展开）</translation>
    </message>
    <message>
        <source>name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>module</source>
        <translation>模块</translation>
    </message>
    <message>
        <source>source</source>
        <translation>源代码</translation>
    </message>
    <message>
        <source>kind {kind}</source>
        <translation>类型 {kind}</translation>
    </message>
    <message>
        <source>NaN/Inf ORIGIN</source>
        <translation>NaN/Inf 源头</translation>
    </message>
    <message>
        <source>NEW</source>
        <translation>新</translation>
    </message>
</context>
<context>
    <name>OptimizerPage</name>
    <message>
        <source>after the step</source>
        <translation>更新之后</translation>
    </message>
    <message>
        <source>before the step</source>
        <translation>更新之前</translation>
    </message>
    <message>
        <source> step {step} · iteration {index} · {when}</source>
        <translation> 第 {step} 步 · 第 {index} 次迭代 · {when}</translation>
    </message>
    <message>
        <source>parameter</source>
        <translation>参数</translation>
    </message>
    <message>
        <source>shape</source>
        <translation>形状</translation>
    </message>
    <message>
        <source>‖w‖ before</source>
        <translation>更新前 ‖w‖</translation>
    </message>
    <message>
        <source>‖w‖ after</source>
        <translation>更新后 ‖w‖</translation>
    </message>
    <message>
        <source>group {index}</source>
        <translation>参数组 {index}</translation>
    </message>
    <message>
        <source>params:</source>
        <translation>参数：</translation>
    </message>
    <message>
        <source>Hyper-parameters</source>
        <translation>超参数</translation>
    </message>
    <message>
        <source>before</source>
        <translation>更新前</translation>
    </message>
    <message>
        <source>after</source>
        <translation>更新后</translation>
    </message>
    <message>
        <source>gradient</source>
        <translation>梯度</translation>
    </message>
    <message>
        <source>{name} in detail</source>
        <translation>{name} 的详细信息</translation>
    </message>
</context>
<context>
    <name>PlotsView</name>
    <message>
        <source>iteration</source>
        <translation>迭代</translation>
    </message>
    <message>
        <source>Parameters with their own curve (largest gradient norms). Untick to hide.</source>
        <translation>拥有单独曲线的参数（梯度范数最大者）。取消勾选即可隐藏。</translation>
    </message>
    <message>
        <source>log loss</source>
        <translation>对数损失</translation>
    </message>
    <message>
        <source>Logarithmic loss axis</source>
        <translation>损失轴使用对数刻度</translation>
    </message>
    <message>
        <source>Fit</source>
        <translation>适应</translation>
    </message>
    <message>
        <source>Fit all data and follow new points again</source>
        <translation>显示全部数据并重新跟随新数据点</translation>
    </message>
    <message>
        <source>after the first backward pass</source>
        <translation>第一次反向传播之后</translation>
    </message>
    <message>
        <source>no scalar loss</source>
        <translation>没有标量损失</translation>
    </message>
    <message>
        <source>no parameter gradient</source>
        <translation>没有参数梯度</translation>
    </message>
    <message>
        <source>after the first optimizer step</source>
        <translation>第一次优化器更新之后</translation>
    </message>
    <message>
        <source>update 0: drawn at the floor of the log scale</source>
        <translation>更新量为 0：画在对数刻度的底部</translation>
    </message>
    <message>
        <source>NaN or Inf in these iterations (loss, a gradient or a value)</source>
        <translation>这些迭代中出现 NaN 或 Inf（损失、梯度或数值）</translation>
    </message>
    <message>
        <source>loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <source>{count} NaN/Inf (first at iteration {index})</source>
        <translation>{count} 个 NaN/Inf（首次出现在第 {index} 次迭代）</translation>
    </message>
    <message>
        <source>gradient norm ‖grad‖</source>
        <translation>梯度范数 ‖grad‖</translation>
    </message>
    <message>
        <source>update ratio ‖Δw‖/‖w‖</source>
        <translation>更新比率 ‖Δw‖/‖w‖</translation>
    </message>
    <message>
        <source>others ({count})</source>
        <translation>其他（{count}）</translation>
    </message>
    <message>
        <source>{name} — no gradient</source>
        <translation>{name} — 无梯度</translation>
    </message>
    <message>
        <source>The optimizer holds this parameter, but the last backward pass gave it no gradient (not used in the forward, or cut off by detach / no_grad)</source>
        <translation>优化器持有此参数，但上一次反向传播没有给它梯度（前向传播中未使用，或被 detach / no_grad 截断）</translation>
    </message>
    <message>
        <source>Parameters without their own curve: the norm of all their gradients together (gradient plot), the median ratio (ratio plot): </source>
        <translation>没有单独曲线的参数：梯度图中为它们全部梯度合在一起的范数，比率图中为比率的中位数：</translation>
    </message>
</context>
<context>
    <name>RankBar</name>
    <message>
        <source>The rank the graph, inspector and timeline show; finer steps (phase, backward node, forward op) act on it while the other ranks wait</source>
        <translation>计算图、检查器和时间线显示的 rank；更细的单步（阶段、反向节点、前向操作）只作用于它，其他 rank 等待</translation>
    </message>
    <message>
        <source>all ranks in plots</source>
        <translation>图表中显示所有 rank</translation>
    </message>
    <message>
        <source>Loss and gradient norm: one curve per rank</source>
        <translation>损失和梯度范数：每个 rank 一条曲线</translation>
    </message>
    <message>
        <source>Rank</source>
        <translation>Rank</translation>
    </message>
    <message>
        <source>rank {rank}</source>
        <translation>rank {rank}</translation>
    </message>
    <message>
        <source>paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>finished</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>已失败</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>{rank}: {state} {index}</source>
        <translation>{rank}：{state} {index}</translation>
    </message>
    <message>
        <source>Ranks</source>
        <translation>Rank</translation>
    </message>
</context>
<context>
    <name>RankCurves</name>
    <message>
        <source>rank {rank}</source>
        <translation>rank {rank}</translation>
    </message>
    <message>
        <source>rank {rank}: all parameters</source>
        <translation>rank {rank}：所有参数</translation>
    </message>
</context>
<context>
    <name>RunDistributedDialog</name>
    <message>
        <source>Run distributed</source>
        <translation>分布式运行</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>--epochs 3 --lr 0.1</source>
        <translation>--epochs 3 --lr 0.1</translation>
    </message>
    <message>
        <source>Script</source>
        <translation>脚本</translation>
    </message>
    <message>
        <source>Arguments</source>
        <translation>参数</translation>
    </message>
    <message>
        <source>Ranks (torchrun --nproc-per-node)</source>
        <translation>rank 数（torchrun --nproc-per-node）</translation>
    </message>
    <message>
        <source>Open a training script</source>
        <translation>打开训练脚本</translation>
    </message>
    <message>
        <source>Python scripts (*.py)</source>
        <translation>Python 脚本 (*.py)</translation>
    </message>
</context>
<context>
    <name>Tables</name>
    <message>
        <source>shape</source>
        <translation>形状</translation>
    </message>
    <message>
        <source>dtype</source>
        <translation>数据类型</translation>
    </message>
    <message>
        <source>device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>norm</source>
        <translation>范数</translation>
    </message>
    <message>
        <source>mean</source>
        <translation>均值</translation>
    </message>
    <message>
        <source>std</source>
        <translation>标准差</translation>
    </message>
    <message>
        <source>min</source>
        <translation>最小值</translation>
    </message>
    <message>
        <source>max</source>
        <translation>最大值</translation>
    </message>
    <message>
        <source>NaN count</source>
        <translation>NaN 个数</translation>
    </message>
    <message>
        <source>Inf count</source>
        <translation>Inf 个数</translation>
    </message>
    <message>
        <source>note</source>
        <translation>备注</translation>
    </message>
    <message>
        <source>not recorded</source>
        <translation>未记录</translation>
    </message>
</context>
<context>
    <name>TensorPlot</name>
    <message>
        <source>no values to plot</source>
        <translation>没有可绘制的数值</translation>
    </message>
    <message>
        <source>heatmap {rows}×{columns}</source>
        <translation>热力图 {rows}×{columns}</translation>
    </message>
    <message>
        <source>all values are NaN/Inf</source>
        <translation>所有值都是 NaN/Inf</translation>
    </message>
    <message>
        <source>histogram of {count} values</source>
        <translation>{count} 个值的直方图</translation>
    </message>
    <message>
        <source> ({count} NaN/Inf left out)</source>
        <translation>（略去 {count} 个 NaN/Inf）</translation>
    </message>
    <message>
        <source>range not finite</source>
        <translation>范围不是有限值</translation>
    </message>
    <message>
        <source>min · mean ± std · max (values not kept for large tensors)</source>
        <translation>最小值 · 均值 ± 标准差 · 最大值（大张量不保留数值）</translation>
    </message>
</context>
<context>
    <name>TimelineView</name>
    <message>
        <source>Scrub through recorded iterations</source>
        <translation>拖动浏览已录制的迭代</translation>
    </message>
    <message>
        <source>no iterations</source>
        <translation>没有迭代</translation>
    </message>
    <message>
        <source>Follow live</source>
        <translation>跟随最新</translation>
    </message>
    <message>
        <source>Jump to the newest iteration as it arrives</source>
        <translation>新迭代到达时跳转到最新的迭代</translation>
    </message>
    <message>
        <source>full detail</source>
        <translation>完整细节</translation>
    </message>
    <message>
        <source>graph changed</source>
        <translation>计算图已变化</translation>
    </message>
    <message>
        <source>loss only: no graph kept (recorded by an older version)</source>
        <translation>仅有损失：未保存计算图（由旧版本录制）</translation>
    </message>
    <message>
        <source>iteration {index} / {last}</source>
        <translation>迭代 {index} / {last}</translation>
    </message>
</context>
<context>
    <name>_Strip</name>
    <message>
        <source>Green: iterations recorded in full detail. Orange: the graph structure changed.</source>
        <translation>绿色：以完整细节记录的迭代。橙色：计算图结构发生了变化。</translation>
    </message>
</context>
</TS>
