<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_GB" sourcelanguage="zh_CN">
<context>
    <name>Age</name>
    <message>
        <location filename="../../widgets/common.py" line="153"/>
        <source>%1 秒</source>
        <translation>%1 s</translation>
    </message>
    <message>
        <location filename="../../widgets/common.py" line="155"/>
        <source>%1 分钟</source>
        <translation>%1 min</translation>
    </message>
    <message>
        <location filename="../../widgets/common.py" line="157"/>
        <source>%1 小时</source>
        <translation>%1 h</translation>
    </message>
    <message>
        <location filename="../../widgets/common.py" line="158"/>
        <source>%1 天</source>
        <translation>%1 d</translation>
    </message>
</context>
<context>
    <name>AlertFeed</name>
    <message>
        <location filename="../../widgets/alert_feed.py" line="123"/>
        <source>未处理完</source>
        <translation>Open</translation>
    </message>
    <message>
        <location filename="../../widgets/alert_feed.py" line="124"/>
        <source>全部状态</source>
        <translation>All states</translation>
    </message>
    <message>
        <location filename="../../widgets/alert_feed.py" line="128"/>
        <source>搜索 (Ctrl+F)</source>
        <translation>Search (Ctrl+F)</translation>
    </message>
    <message>
        <location filename="../../widgets/alert_feed.py" line="130"/>
        <source>清除筛选</source>
        <translation>Clear filters</translation>
    </message>
    <message>
        <location filename="../../widgets/alert_feed.py" line="150"/>
        <source>全部部门</source>
        <translation>All bureaus</translation>
    </message>
    <message>
        <location filename="../../widgets/alert_feed.py" line="150"/>
        <source>全部镇街</source>
        <translation>All towns</translation>
    </message>
    <message numerus="yes">
        <location filename="../../widgets/alert_feed.py" line="299"/>
        <source>有 %n 条红色告警被当前筛选隐藏</source>
        <translation>
            <numerusform>Red alerts hidden by the current filter: %n</numerusform>
            <numerusform>Red alerts hidden by the current filter: %n</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../widgets/alert_feed.py" line="332"/>
        <source>当前角色无此权限</source>
        <translation>Your role may not do this</translation>
    </message>
    <message>
        <location filename="../../widgets/alert_feed.py" line="342"/>
        <source>请确认</source>
        <translation>Please confirm</translation>
    </message>
    <message numerus="yes">
        <location filename="../../widgets/alert_feed.py" line="343"/>
        <source>对 %n 条告警执行：</source>
        <translation>
            <numerusform>Selected alerts: %n — </numerusform>
            <numerusform>Selected alerts: %n — </numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../widgets/alert_feed.py" line="349"/>
        <source>发送中…</source>
        <translation>Sending…</translation>
    </message>
    <message>
        <location filename="../../widgets/alert_feed.py" line="354"/>
        <source>已排队，联网后发送</source>
        <translation>Queued; sent when back online</translation>
    </message>
    <message>
        <location filename="../../widgets/alert_feed.py" line="354"/>
        <source>已完成</source>
        <translation>Done</translation>
    </message>
    <message>
        <location filename="../../widgets/alert_feed.py" line="356"/>
        <source>失败：</source>
        <translation>Failed: </translation>
    </message>
</context>
<context>
    <name>AlertTableModel</name>
    <message>
        <location filename="../../widgets/alert_model.py" line="300"/>
        <source>级别</source>
        <translation>Level</translation>
    </message>
    <message>
        <location filename="../../widgets/alert_model.py" line="300"/>
        <source>状态</source>
        <translation>State</translation>
    </message>
    <message>
        <location filename="../../widgets/alert_model.py" line="300"/>
        <source>告警内容</source>
        <translation>Alert</translation>
    </message>
    <message>
        <location filename="../../widgets/alert_model.py" line="301"/>
        <source>部门</source>
        <translation>Bureau</translation>
    </message>
    <message>
        <location filename="../../widgets/alert_model.py" line="301"/>
        <source>镇街</source>
        <translation>Town</translation>
    </message>
    <message>
        <location filename="../../widgets/alert_model.py" line="301"/>
        <source>次数</source>
        <translation>Count</translation>
    </message>
    <message>
        <location filename="../../widgets/alert_model.py" line="302"/>
        <source>时间</source>
        <translation>Time</translation>
    </message>
    <message>
        <location filename="../../widgets/alert_model.py" line="302"/>
        <source>处置人</source>
        <translation>Handler</translation>
    </message>
</context>
<context>
    <name>CameraTile</name>
    <message>
        <location filename="../../widgets/camera_tile.py" line="101"/>
        <location filename="../../widgets/camera_tile.py" line="159"/>
        <source>无视频源</source>
        <translation>No video source</translation>
    </message>
    <message>
        <location filename="../../widgets/camera_tile.py" line="128"/>
        <source>本机不支持视频播放</source>
        <translation>Video playback is not available on this machine</translation>
    </message>
    <message>
        <location filename="../../widgets/camera_tile.py" line="136"/>
        <source>连接中…</source>
        <translation>Connecting…</translation>
    </message>
    <message>
        <location filename="../../widgets/camera_tile.py" line="148"/>
        <source>模拟画面（仿真城市无真实视频）</source>
        <translation>Simulated picture (the simulated city has no real video)</translation>
    </message>
    <message>
        <location filename="../../widgets/camera_tile.py" line="178"/>
        <location filename="../../widgets/camera_tile.py" line="184"/>
        <source>无信号</source>
        <translation>No signal</translation>
    </message>
    <message>
        <location filename="../../widgets/camera_tile.py" line="190"/>
        <source>无信号（画面中断）</source>
        <translation>No signal (stream stalled)</translation>
    </message>
</context>
<context>
    <name>CellTile</name>
    <message>
        <location filename="../../views/layout_editor.py" line="81"/>
        <source>加宽一列</source>
        <translation>One column wider</translation>
    </message>
    <message>
        <location filename="../../views/layout_editor.py" line="82"/>
        <source>减窄一列</source>
        <translation>One column narrower</translation>
    </message>
    <message>
        <location filename="../../views/layout_editor.py" line="83"/>
        <source>加高一行</source>
        <translation>One row taller</translation>
    </message>
    <message>
        <location filename="../../views/layout_editor.py" line="84"/>
        <source>减矮一行</source>
        <translation>One row shorter</translation>
    </message>
    <message>
        <location filename="../../views/layout_editor.py" line="85"/>
        <source>删除此格</source>
        <translation>Remove this cell</translation>
    </message>
</context>
<context>
    <name>CityPlaceholder</name>
    <message>
        <location filename="../../widgets/city_placeholder.py" line="13"/>
        <source>三维城市视图暂不可用</source>
        <translation>The 3D city view is not available</translation>
    </message>
</context>
<context>
    <name>CityView</name>
    <message>
        <location filename="../../views/city3d/__init__.py" line="28"/>
        <source>三维城市需要 OpenGL 显示（当前 Qt 平台：{platform}）</source>
        <translation>The 3D city needs an OpenGL display (Qt platform now: {platform})</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="49"/>
        <source>在线</source>
        <translation>online</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="49"/>
        <source>离线</source>
        <translation>offline</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="50"/>
        <source>故障</source>
        <translation>faulty</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="54"/>
        <source>总队级</source>
        <translation>corps</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="54"/>
        <source>支队级</source>
        <translation>detachment</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="55"/>
        <source>大队级</source>
        <translation>brigade</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="55"/>
        <source>站级</source>
        <translation>station</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="72"/>
        <source>预案</source>
        <translation>Plans</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="74"/>
        <source>预案 ({n})</source>
        <translation>Plans ({n})</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="78"/>
        <source>更新 {date}</source>
        <translation>updated {date}</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="82"/>
        <source>总平面图</source>
        <translation>Site plan</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="87"/>
        <source>点击放大</source>
        <translation>Click to enlarge</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="89"/>
        <source>无（单位未关联建筑）</source>
        <translation>None (the unit has no building)</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="98"/>
        <source> · 重点单位</source>
        <translation> · key unit</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="99"/>
        <source>建筑 #{id}</source>
        <translation>Building #{id}</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="101"/>
        <location filename="../../views/city3d/card.py" line="127"/>
        <source>地址</source>
        <translation>Address</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="102"/>
        <source>镇街</source>
        <translation>Town</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="103"/>
        <source>用途</source>
        <translation>Use</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="104"/>
        <source>结构</source>
        <translation>Structure</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="105"/>
        <source>高度</source>
        <translation>Height</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="106"/>
        <source>层数</source>
        <translation>Floors</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="107"/>
        <source>占地面积</source>
        <translation>Footprint</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="108"/>
        <source>建筑面积</source>
        <translation>Floor area</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="109"/>
        <source>建成年份</source>
        <translation>Built</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="110"/>
        <source>位置</source>
        <translation>Location</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="112"/>
        <source>告警 ({n})</source>
        <translation>Alerts ({n})</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="117"/>
        <source>设备</source>
        <translation>Devices</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="72"/>
        <location filename="../../views/city3d/card.py" line="117"/>
        <source>查询中…</source>
        <translation>Loading…</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="119"/>
        <source>设备 ({n})</source>
        <translation>Devices ({n})</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="125"/>
        <source>重点单位：{name}</source>
        <translation>Key unit: {name}</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="126"/>
        <source>类别</source>
        <translation>Category</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="128"/>
        <source>联系人</source>
        <translation>Contact</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="129"/>
        <source>重点部位</source>
        <translation>Key parts</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="137"/>
        <source>周边分析 · 半径 {r} m</source>
        <translation>Surroundings · radius {r} m</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="140"/>
        <source>事件 #{id}</source>
        <translation>Incident #{id}</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="141"/>
        <source>建筑 {n} 栋 · 最高 {h} m · 高层 {hr} 栋 · 重点单位 {k}</source>
        <translation>{n} buildings · tallest {h} m · {hr} high-rise · {k} key units</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="144"/>
        <source>最近消防站</source>
        <translation>Nearest fire stations</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="145"/>
        <source>最近水源</source>
        <translation>Nearest water sources</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="81"/>
        <location filename="../../views/city3d/card.py" line="150"/>
        <source>无</source>
        <translation>None</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="152"/>
        <source>距离</source>
        <comment>column head</comment>
        <translation>Dist.</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="152"/>
        <source>高度</source>
        <comment>column head</comment>
        <translation>Height</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="153"/>
        <source>层</source>
        <comment>column head</comment>
        <translation>Fl.</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="153"/>
        <source>结构</source>
        <comment>column head</comment>
        <translation>Struct.</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="154"/>
        <source>用途</source>
        <comment>column head</comment>
        <translation>Use</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="155"/>
        <source>建筑 (按距离)</source>
        <translation>Buildings (nearest first)</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="172"/>
        <source>图例</source>
        <translation>Legend</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="177"/>
        <source>物联设备（按类型）</source>
        <translation>IoT devices (by type)</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="181"/>
        <source>点击建筑查看详情</source>
        <translation>Click a building for its details</translation>
    </message>
    <message>
        <location filename="../../views/city3d/colors.py" line="12"/>
        <source>按高度</source>
        <translation>By height</translation>
    </message>
    <message>
        <location filename="../../views/city3d/colors.py" line="13"/>
        <source>按用途</source>
        <translation>By use</translation>
    </message>
    <message>
        <location filename="../../views/city3d/colors.py" line="14"/>
        <source>按年代</source>
        <translation>By age</translation>
    </message>
    <message>
        <location filename="../../views/city3d/colors.py" line="15"/>
        <source>实时状态</source>
        <translation>Live state</translation>
    </message>
    <message>
        <location filename="../../views/city3d/live.py" line="84"/>
        <source>事件 {title}</source>
        <translation>Incident {title}</translation>
    </message>
    <message>
        <location filename="../../views/city3d/live.py" line="131"/>
        <source>{type} {n}</source>
        <translation>{type} {n}</translation>
    </message>
    <message>
        <location filename="../../views/city3d/live.py" line="133"/>
        <source>设备 {n}</source>
        <translation>{n} devices</translation>
    </message>
    <message>
        <location filename="../../views/city3d/overlays.py" line="33"/>
        <source>消防站</source>
        <translation>Fire stations</translation>
    </message>
    <message>
        <location filename="../../views/city3d/overlays.py" line="34"/>
        <source>消防车辆</source>
        <translation>Fire vehicles</translation>
    </message>
    <message>
        <location filename="../../views/city3d/overlays.py" line="35"/>
        <source>水源/消火栓</source>
        <translation>Water sources / hydrants</translation>
    </message>
    <message>
        <location filename="../../views/city3d/overlays.py" line="36"/>
        <source>事件</source>
        <translation>Incidents</translation>
    </message>
    <message>
        <location filename="../../views/city3d/overlays.py" line="37"/>
        <source>重点单位</source>
        <translation>Key units</translation>
    </message>
    <message>
        <location filename="../../views/city3d/overlays.py" line="38"/>
        <source>物联设备</source>
        <translation>IoT devices</translation>
    </message>
    <message>
        <location filename="../../views/city3d/overlays.py" line="39"/>
        <source>设备聚合</source>
        <translation>Device clusters</translation>
    </message>
    <message>
        <location filename="../../views/city3d/toolbar.py" line="31"/>
        <source>选取</source>
        <translation>Pick</translation>
    </message>
    <message>
        <location filename="../../views/city3d/toolbar.py" line="31"/>
        <source>测距</source>
        <translation>Distance</translation>
    </message>
    <message>
        <location filename="../../views/city3d/toolbar.py" line="32"/>
        <location filename="../../views/city3d/widget.py" line="607"/>
        <source>测高</source>
        <translation>Height</translation>
    </message>
    <message>
        <location filename="../../views/city3d/toolbar.py" line="32"/>
        <source>测面积</source>
        <translation>Area</translation>
    </message>
    <message>
        <location filename="../../views/city3d/toolbar.py" line="91"/>
        <source>二维俯视 / 三维</source>
        <translation>2D top-down / 3D</translation>
    </message>
    <message>
        <location filename="../../views/city3d/toolbar.py" line="94"/>
        <source>建筑着色</source>
        <translation>Building colours</translation>
    </message>
    <message>
        <location filename="../../views/city3d/toolbar.py" line="95"/>
        <source>全市总览</source>
        <translation>Whole city</translation>
    </message>
    <message>
        <location filename="../../views/city3d/toolbar.py" line="98"/>
        <source>飞到镇街</source>
        <translation>Fly to a town</translation>
    </message>
    <message>
        <location filename="../../views/city3d/toolbar.py" line="101"/>
        <source>清除测量</source>
        <translation>Clear</translation>
    </message>
    <message>
        <location filename="../../views/city3d/toolbar.py" line="102"/>
        <source>清除测量结果</source>
        <translation>Clear the measurement</translation>
    </message>
    <message>
        <location filename="../../views/city3d/toolbar.py" line="103"/>
        <source>周边分析半径</source>
        <translation>Surroundings radius</translation>
    </message>
    <message>
        <location filename="../../views/city3d/toolbar.py" line="104"/>
        <source>周边分析</source>
        <translation>Surroundings</translation>
    </message>
    <message>
        <location filename="../../views/city3d/toolbar.py" line="108"/>
        <source>设备类型</source>
        <translation>Device types</translation>
    </message>
    <message>
        <location filename="../../views/city3d/card.py" line="174"/>
        <location filename="../../views/city3d/toolbar.py" line="105"/>
        <source>图层</source>
        <translation>Layers</translation>
    </message>
    <message>
        <location filename="../../views/city3d/tools.py" line="70"/>
        <source>建筑高度 {h} m，{f} 层（层高约 {s} m）</source>
        <translation>Building height {h} m, {f} floors (storey about {s} m)</translation>
    </message>
    <message>
        <location filename="../../views/city3d/tools.py" line="76"/>
        <source>测距：请点击第二个点</source>
        <translation>Distance: click a second point</translation>
    </message>
    <message>
        <location filename="../../views/city3d/tools.py" line="80"/>
        <source>距离 {d} m（水平 {g} m，高差 {dz} m）</source>
        <translation>Distance {d} m (horizontal {g} m, height difference {dz} m)</translation>
    </message>
    <message>
        <location filename="../../views/city3d/tools.py" line="83"/>
        <source>测面积：已取 {n} 点，至少 3 点</source>
        <translation>Area: {n} points so far, at least 3</translation>
    </message>
    <message>
        <location filename="../../views/city3d/tools.py" line="85"/>
        <source>面积 {a} m²（周长 {p} m，已修复自相交）</source>
        <translation>Area {a} m² (perimeter {p} m, self-intersection repaired)</translation>
    </message>
    <message>
        <location filename="../../views/city3d/tools.py" line="86"/>
        <source>面积 {a} m²（周长 {p} m）</source>
        <translation>Area {a} m² (perimeter {p} m)</translation>
    </message>
    <message>
        <location filename="../../views/city3d/widget.py" line="254"/>
        <location filename="../../views/city3d/widget.py" line="317"/>
        <source>正在加载城市模型…</source>
        <translation>Loading the city…</translation>
    </message>
    <message>
        <location filename="../../views/city3d/widget.py" line="318"/>
        <source>正在构建城市模型（{n} 栋）…</source>
        <translation>Building the city ({n} buildings)…</translation>
    </message>
    <message>
        <location filename="../../views/city3d/widget.py" line="319"/>
        <source>{n} 栋建筑</source>
        <translation>{n} buildings</translation>
    </message>
    <message>
        <location filename="../../views/city3d/widget.py" line="320"/>
        <source>下载城市模型 {done}/{total}</source>
        <translation>Downloading the city model {done}/{total}</translation>
    </message>
    <message>
        <location filename="../../views/city3d/widget.py" line="321"/>
        <source>城市模型不可用</source>
        <translation>City model unavailable</translation>
    </message>
    <message>
        <location filename="../../views/city3d/widget.py" line="322"/>
        <source>服务端无建筑数据</source>
        <translation>The service has no buildings</translation>
    </message>
    <message>
        <location filename="../../views/city3d/widget.py" line="607"/>
        <source>测量</source>
        <translation>Measurement</translation>
    </message>
    <message>
        <location filename="../../views/city3d/siteplan_view.py" line="78"/>
        <source>{h} m · {f} 层</source>
        <translation>{h} m · {f} floors</translation>
    </message>
    <message>
        <location filename="../../views/city3d/siteplan_view.py" line="128"/>
        <source>本单位建筑</source>
        <translation>The unit&apos;s buildings</translation>
    </message>
    <message>
        <location filename="../../views/city3d/siteplan_view.py" line="128"/>
        <source>相邻建筑</source>
        <translation>Neighbouring buildings</translation>
    </message>
    <message>
        <location filename="../../views/city3d/siteplan_view.py" line="129"/>
        <source>出入口</source>
        <translation>Entrances</translation>
    </message>
    <message>
        <location filename="../../views/city3d/siteplan_view.py" line="129"/>
        <source>水源（图外的标注距离）</source>
        <translation>Water sources (beyond the plan: at its edge, with the distance)</translation>
    </message>
    <message>
        <location filename="../../views/city3d/siteplan_view.py" line="130"/>
        <source>消防车登高操作场地</source>
        <translation>Aerial-ladder staging area</translation>
    </message>
    <message>
        <location filename="../../views/city3d/siteplan_view.py" line="139"/>
        <source>总平面图 · {name}</source>
        <translation>Site plan · {name}</translation>
    </message>
    <message>
        <location filename="../../views/city3d/siteplan_view.py" line="147"/>
        <source>由城市信息模型生成</source>
        <translation>Generated from the city information model</translation>
    </message>
    <message>
        <location filename="../../views/city3d/siteplan_view.py" line="148"/>
        <source>测绘</source>
        <translation>Surveyed</translation>
    </message>
</context>
<context>
    <name>CommandFeedback</name>
    <message>
        <location filename="../../widgets/command_feedback.py" line="31"/>
        <source>确认告警</source>
        <translation>Acknowledge</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="32"/>
        <source>派遣处置</source>
        <translation>Dispatch</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="33"/>
        <source>标记解除</source>
        <translation>Resolve</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="34"/>
        <source>关闭告警</source>
        <translation>Close alert</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="35"/>
        <source>重新打开告警</source>
        <translation>Reopen alert</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="36"/>
        <source>添加告警备注</source>
        <translation>Add a note</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="37"/>
        <source>指派告警</source>
        <translation>Assign alert</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="38"/>
        <source>升级告警</source>
        <translation>Escalate</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="39"/>
        <source>人工上报告警</source>
        <translation>Raise an alert</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="40"/>
        <source>生成事件</source>
        <translation>Open incident</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="41"/>
        <source>更新事件</source>
        <translation>Update incident</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="42"/>
        <source>设为关注事件</source>
        <translation>Put in focus</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="43"/>
        <source>创建任务</source>
        <translation>Create task</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="44"/>
        <source>审批决策</source>
        <translation>Decision</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="45"/>
        <source>更新任务</source>
        <translation>Update task</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="46"/>
        <source>更新救援力量</source>
        <translation>Update resource</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="47"/>
        <source>屏蔽告警</source>
        <translation>Silence alerts</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="48"/>
        <source>取消屏蔽</source>
        <translation>Cancel silence</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="49"/>
        <source>保存告警规则</source>
        <translation>Save alert rule</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="50"/>
        <source>删除告警规则</source>
        <translation>Delete alert rule</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="51"/>
        <source>登记设备</source>
        <translation>Register device</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="52"/>
        <source>注销设备</source>
        <translation>Revoke device</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="53"/>
        <source>创建用户</source>
        <translation>Create user</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="54"/>
        <source>停用用户</source>
        <translation>Disable user</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="55"/>
        <source>启用用户</source>
        <translation>Enable user</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="56"/>
        <source>修改用户角色和管辖范围</source>
        <translation>Change user role and domains</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="57"/>
        <source>重置用户密码</source>
        <translation>Reset user password</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="58"/>
        <source>修改密码</source>
        <translation>Change password</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="59"/>
        <source>创建委办局接入凭证</source>
        <translation>Create bureau ingest key</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="60"/>
        <source>吊销委办局接入凭证</source>
        <translation>Revoke bureau ingest key</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="61"/>
        <source>周边分析</source>
        <translation>Surroundings</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="62"/>
        <source>开始演练</source>
        <translation>Start drill</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="67"/>
        <source>当前角色或管辖范围无此权限</source>
        <translation>not allowed for your role or area</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="68"/>
        <source>状态已变化，此操作不再适用</source>
        <translation>the state has changed; this action no longer applies</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="69"/>
        <source>对象不存在或已删除</source>
        <translation>it does not exist or was deleted</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="70"/>
        <source>参数无效</source>
        <translation>invalid arguments</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="71"/>
        <source>操作过于频繁</source>
        <translation>too many requests</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="72"/>
        <source>数据过大</source>
        <translation>too large</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="73"/>
        <source>登录已失效</source>
        <translation>the login has expired</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="74"/>
        <source>请先登录</source>
        <translation>please log in</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="75"/>
        <source>用户名或密码错误</source>
        <translation>wrong user name or password</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="76"/>
        <source>服务内部错误</source>
        <translation>internal error in the service</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="77"/>
        <source>服务不支持此操作</source>
        <translation>the service does not support this action</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="78"/>
        <source>服务不支持此查询</source>
        <translation>the service does not support this query</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="79"/>
        <source>消息格式错误</source>
        <translation>malformed message</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="80"/>
        <source>控制台与服务版本不兼容</source>
        <translation>console and service versions do not match</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="81"/>
        <source>服务不认识此消息</source>
        <translation>the service does not know this message</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="82"/>
        <source>连接尚未就绪</source>
        <translation>the connection is not ready yet</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="83"/>
        <source>未连接服务</source>
        <translation>not connected to the service</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="84"/>
        <source>服务未及时应答</source>
        <translation>the service did not answer in time</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="89"/>
        <source>此服务未运行模拟城市，或模拟器未接受演练</source>
        <translation>no simulated city runs on this service, or the simulator did not take the drill</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="90"/>
        <source>服务不认识此演练剧情</source>
        <translation>the service does not know this drill</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="97"/>
        <source>错误代码 {code}</source>
        <translation>error code {code}</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="112"/>
        <source>告警 #{id}</source>
        <translation>alert #{id}</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="113"/>
        <source>「{title}」</source>
        <translation> “{title}”</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="116"/>
        <source>告警 {ids}</source>
        <translation>alerts {ids}</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="118"/>
        <source>事件 #{id}</source>
        <translation>incident #{id}</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="120"/>
        <source>任务 #{id}</source>
        <translation>task #{id}</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="129"/>
        <source>{what} 被拒绝：{reason}</source>
        <translation>{what} refused: {reason}</translation>
    </message>
    <message>
        <location filename="../../widgets/command_feedback.py" line="207"/>
        <source>一项操作被拒绝：{reason}</source>
        <translation>An action was refused: {reason}</translation>
    </message>
</context>
<context>
    <name>DQ</name>
    <message>
        <location filename="../../widgets/dq_panel.py" line="24"/>
        <source>格式错误</source>
        <translation>Malformed</translation>
    </message>
    <message>
        <location filename="../../widgets/dq_panel.py" line="24"/>
        <source>缺少凭证</source>
        <translation>Credential missing</translation>
    </message>
    <message>
        <location filename="../../widgets/dq_panel.py" line="25"/>
        <source>凭证无效</source>
        <translation>Invalid credential</translation>
    </message>
    <message>
        <location filename="../../widgets/dq_panel.py" line="25"/>
        <source>凭证已吊销</source>
        <translation>Credential revoked</translation>
    </message>
    <message>
        <location filename="../../widgets/dq_panel.py" line="26"/>
        <source>越权写入</source>
        <translation>Wrong bureau</translation>
    </message>
    <message>
        <location filename="../../widgets/dq_panel.py" line="26"/>
        <source>未知设备</source>
        <translation>Unknown device</translation>
    </message>
    <message>
        <location filename="../../widgets/dq_panel.py" line="27"/>
        <source>未知指标</source>
        <translation>Unknown metric</translation>
    </message>
    <message>
        <location filename="../../widgets/dq_panel.py" line="27"/>
        <source>非数值</source>
        <translation>Not a number</translation>
    </message>
    <message>
        <location filename="../../widgets/dq_panel.py" line="28"/>
        <source>哨兵值</source>
        <translation>Sentinel value</translation>
    </message>
    <message>
        <location filename="../../widgets/dq_panel.py" line="28"/>
        <source>超出量程</source>
        <translation>Out of range</translation>
    </message>
    <message>
        <location filename="../../widgets/dq_panel.py" line="29"/>
        <source>时间过旧</source>
        <translation>Timestamp too old</translation>
    </message>
    <message>
        <location filename="../../widgets/dq_panel.py" line="29"/>
        <source>时间超前</source>
        <translation>Timestamp in the future</translation>
    </message>
    <message>
        <location filename="../../widgets/dq_panel.py" line="30"/>
        <source>数值卡滞</source>
        <translation>Stuck value</translation>
    </message>
</context>
<context>
    <name>DataQualityPanel</name>
    <message>
        <location filename="../../widgets/dq_panel.py" line="42"/>
        <source>原因</source>
        <translation>Reason</translation>
    </message>
    <message>
        <location filename="../../widgets/dq_panel.py" line="42"/>
        <source>累计</source>
        <translation>Total</translation>
    </message>
    <message>
        <location filename="../../widgets/dq_panel.py" line="42"/>
        <source>主要部门</source>
        <translation>Main bureaus</translation>
    </message>
    <message>
        <location filename="../../widgets/dq_panel.py" line="70"/>
        <source>被拒绝或标记的读数：%1 条（更新于 %2）</source>
        <translation>Readings refused or flagged: %1 (updated %2)</translation>
    </message>
</context>
<context>
    <name>DecisionPanel</name>
    <message>
        <location filename="../../widgets/decision_panel.py" line="37"/>
        <source>提出：</source>
        <translation>Proposed by </translation>
    </message>
    <message>
        <location filename="../../widgets/decision_panel.py" line="43"/>
        <location filename="../../widgets/decision_panel.py" line="114"/>
        <source>批准</source>
        <translation>Approve</translation>
    </message>
    <message>
        <location filename="../../widgets/decision_panel.py" line="44"/>
        <location filename="../../widgets/decision_panel.py" line="114"/>
        <source>驳回</source>
        <translation>Reject</translation>
    </message>
    <message>
        <location filename="../../widgets/decision_panel.py" line="47"/>
        <source>当前角色无此权限</source>
        <translation>Your role may not do this</translation>
    </message>
    <message numerus="yes">
        <location filename="../../widgets/decision_panel.py" line="108"/>
        <source>待决策事项：%n 项</source>
        <translation>
            <numerusform>Decisions waiting: %n</numerusform>
            <numerusform>Decisions waiting: %n</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../widgets/decision_panel.py" line="108"/>
        <source>暂无待决策事项</source>
        <translation>No decisions waiting</translation>
    </message>
    <message>
        <location filename="../../widgets/decision_panel.py" line="115"/>
        <source>请确认决策</source>
        <translation>Confirm the decision</translation>
    </message>
    <message>
        <location filename="../../widgets/decision_panel.py" line="115"/>
        <source>确定%1：%2？</source>
        <translation>%1: %2?</translation>
    </message>
    <message>
        <location filename="../../widgets/decision_panel.py" line="125"/>
        <source>已提交</source>
        <translation>Submitted</translation>
    </message>
    <message>
        <location filename="../../widgets/decision_panel.py" line="125"/>
        <source>失败：</source>
        <translation>Failed: </translation>
    </message>
</context>
<context>
    <name>DeviceHealth</name>
    <message>
        <location filename="../../widgets/device_health.py" line="114"/>
        <source>部门 / 类型</source>
        <translation>Bureau / type</translation>
    </message>
    <message>
        <location filename="../../widgets/device_health.py" line="114"/>
        <source>总数</source>
        <translation>Total</translation>
    </message>
    <message>
        <location filename="../../widgets/device_health.py" line="114"/>
        <source>在线</source>
        <translation>Online</translation>
    </message>
    <message>
        <location filename="../../widgets/device_health.py" line="115"/>
        <source>离线</source>
        <translation>Offline</translation>
    </message>
    <message>
        <location filename="../../widgets/device_health.py" line="115"/>
        <source>故障</source>
        <translation>Faulty</translation>
    </message>
    <message>
        <location filename="../../widgets/device_health.py" line="115"/>
        <source>在线率</source>
        <translation>Online</translation>
    </message>
    <message>
        <location filename="../../widgets/device_health.py" line="122"/>
        <source>条形从 90% 到 100%：绿色 95% 以上，黄色 90%–95%，红色低于 90%</source>
        <translation>The bar spans 90% to 100%: green from 95%, yellow 90%–95%, red under 90%</translation>
    </message>
    <message>
        <location filename="../../widgets/device_health.py" line="158"/>
        <source>全市</source>
        <translation>City-wide</translation>
    </message>
    <message>
        <location filename="../../widgets/device_health.py" line="159"/>
        <source>%1：设备 %2 台，在线率 %3%，离线 %4，故障 %5</source>
        <translation>%1: %2 devices, %3% online, %4 offline, %5 faulty</translation>
    </message>
</context>
<context>
    <name>DeviceListDialog</name>
    <message>
        <location filename="../../widgets/device_health.py" line="213"/>
        <source>设备列表</source>
        <translation>Devices</translation>
    </message>
    <message>
        <location filename="../../widgets/device_health.py" line="215"/>
        <source>正在查询…</source>
        <translation>Querying…</translation>
    </message>
    <message>
        <location filename="../../widgets/device_health.py" line="217"/>
        <source>编号</source>
        <translation>ID</translation>
    </message>
    <message>
        <location filename="../../widgets/device_health.py" line="217"/>
        <source>名称</source>
        <translation>Name</translation>
    </message>
    <message>
        <location filename="../../widgets/device_health.py" line="217"/>
        <source>镇街</source>
        <translation>Town</translation>
    </message>
    <message>
        <location filename="../../widgets/device_health.py" line="218"/>
        <source>状态</source>
        <translation>State</translation>
    </message>
    <message>
        <location filename="../../widgets/device_health.py" line="218"/>
        <source>最后上报</source>
        <translation>Last report</translation>
    </message>
    <message>
        <location filename="../../widgets/device_health.py" line="218"/>
        <source>最新读数</source>
        <translation>Latest values</translation>
    </message>
    <message>
        <location filename="../../widgets/device_health.py" line="231"/>
        <source>未连接服务，无法查询</source>
        <translation>Not connected to the service; cannot query</translation>
    </message>
    <message>
        <location filename="../../widgets/device_health.py" line="237"/>
        <source>查询失败：</source>
        <translation>Query failed: </translation>
    </message>
    <message>
        <location filename="../../widgets/device_health.py" line="242"/>
        <source>共 %1 台，显示 %2 台</source>
        <translation>%1 devices, %2 shown</translation>
    </message>
    <message>
        <location filename="../../widgets/device_health.py" line="243"/>
        <source>在线</source>
        <translation>Online</translation>
    </message>
    <message>
        <location filename="../../widgets/device_health.py" line="243"/>
        <source>离线</source>
        <translation>Offline</translation>
    </message>
    <message>
        <location filename="../../widgets/device_health.py" line="243"/>
        <source>故障</source>
        <translation>Faulty</translation>
    </message>
</context>
<context>
    <name>ErrorDialog</name>
    <message>
        <location filename="../../views/error_dialog.py" line="22"/>
        <source>出现问题</source>
        <translation>Something went wrong</translation>
    </message>
    <message>
        <location filename="../../views/error_dialog.py" line="24"/>
        <source>操作未能完成。控制台仍在运行，详细信息已写入日志。</source>
        <translation>The operation could not be completed. The console is still running; details are in the log.</translation>
    </message>
</context>
<context>
    <name>FreeTile</name>
    <message>
        <location filename="../../views/layout_editor.py" line="135"/>
        <source>在此添加右侧选中的面板</source>
        <translation>Add the panel selected on the right here</translation>
    </message>
</context>
<context>
    <name>HallWindow</name>
    <message>
        <location filename="../../views/window.py" line="54"/>
        <source>演练…</source>
        <translation>Drill…</translation>
    </message>
</context>
<context>
    <name>HeaderBar</name>
    <message>
        <location filename="../../widgets/header.py" line="114"/>
        <source>✕ 已静音</source>
        <translation>✕ Muted</translation>
    </message>
    <message>
        <location filename="../../widgets/header.py" line="114"/>
        <source>♪ 声音开</source>
        <translation>♪ Sound on</translation>
    </message>
    <message>
        <location filename="../../widgets/header.py" line="126"/>
        <source>● 在线 · 数据 %1 前</source>
        <translation>● Online · data %1 old</translation>
    </message>
    <message>
        <location filename="../../widgets/header.py" line="127"/>
        <source>● 在线</source>
        <translation>● Online</translation>
    </message>
    <message>
        <location filename="../../widgets/header.py" line="129"/>
        <source>◐ 重连中</source>
        <translation>◐ Reconnecting</translation>
    </message>
    <message>
        <location filename="../../widgets/header.py" line="129"/>
        <source> · 数据 %1 前</source>
        <translation> · data %1 old</translation>
    </message>
    <message>
        <location filename="../../widgets/header.py" line="131"/>
        <source>◌ 连接中</source>
        <translation>◌ Connecting</translation>
    </message>
    <message>
        <location filename="../../widgets/header.py" line="132"/>
        <source>○ 离线 · 数据 %1 前</source>
        <translation>○ Offline · data %1 old</translation>
    </message>
    <message>
        <location filename="../../widgets/header.py" line="163"/>
        <source>雨量 %1 mm</source>
        <translation>Rain %1 mm</translation>
    </message>
</context>
<context>
    <name>IncidentPanel</name>
    <message>
        <location filename="../../widgets/incident_panel.py" line="56"/>
        <location filename="../../widgets/incident_panel.py" line="155"/>
        <source>当前无关注事件</source>
        <translation>No incident in focus</translation>
    </message>
    <message>
        <location filename="../../widgets/incident_panel.py" line="67"/>
        <source>设为全局关注 (F)</source>
        <translation>Put in focus for all halls (F)</translation>
    </message>
    <message>
        <location filename="../../widgets/incident_panel.py" line="72"/>
        <source>开始处置</source>
        <translation>Start response</translation>
    </message>
    <message>
        <location filename="../../widgets/incident_panel.py" line="72"/>
        <source>已控制</source>
        <translation>Contained</translation>
    </message>
    <message>
        <location filename="../../widgets/incident_panel.py" line="73"/>
        <source>结束事件</source>
        <translation>Close incident</translation>
    </message>
    <message>
        <location filename="../../widgets/incident_panel.py" line="149"/>
        <source>◉ 全局关注</source>
        <translation>◉ In focus</translation>
    </message>
    <message>
        <location filename="../../widgets/incident_panel.py" line="151"/>
        <source>◎ 全局关注已移至他处</source>
        <translation>◎ Focus moved elsewhere</translation>
    </message>
    <message>
        <location filename="../../widgets/incident_panel.py" line="166"/>
        <source>指挥：</source>
        <translation>Commander: </translation>
    </message>
    <message>
        <location filename="../../widgets/incident_panel.py" line="166"/>
        <source>更新 </source>
        <translation>Updated </translation>
    </message>
    <message>
        <location filename="../../widgets/incident_panel.py" line="176"/>
        <source>任务：</source>
        <translation>Task: </translation>
    </message>
    <message>
        <location filename="../../widgets/incident_panel.py" line="192"/>
        <source>请确认</source>
        <translation>Please confirm</translation>
    </message>
    <message>
        <location filename="../../widgets/incident_panel.py" line="192"/>
        <source>确定结束该事件？</source>
        <translation>Close this incident?</translation>
    </message>
    <message>
        <location filename="../../widgets/incident_panel.py" line="198"/>
        <source>已完成</source>
        <translation>Done</translation>
    </message>
    <message>
        <location filename="../../widgets/incident_panel.py" line="198"/>
        <source>失败：</source>
        <translation>Failed: </translation>
    </message>
</context>
<context>
    <name>LayoutEditor</name>
    <message>
        <location filename="../../views/layout_editor.py" line="194"/>
        <source>布局编辑</source>
        <translation>Layout editor</translation>
    </message>
    <message>
        <location filename="../../views/layout_editor.py" line="200"/>
        <source>（自定义）</source>
        <translation> (custom)</translation>
    </message>
    <message>
        <location filename="../../views/layout_editor.py" line="203"/>
        <source>另存为新布局</source>
        <translation>Save as new layout</translation>
    </message>
    <message>
        <location filename="../../views/layout_editor.py" line="205"/>
        <source>保存</source>
        <translation>Save</translation>
    </message>
    <message>
        <location filename="../../views/layout_editor.py" line="214"/>
        <source>面板（拖到格子上替换，拖到空位上添加）</source>
        <translation>Panels (drop on a cell to replace it, on a free place to add one)</translation>
    </message>
    <message>
        <location filename="../../views/layout_editor.py" line="225"/>
        <source>拖动格子可在格子、屏幕之间交换面板，或移到空位；格子上的按钮调整大小或删除。</source>
        <translation>Drag a cell to swap panels between cells and screens, or onto a free place to move it; the buttons on a cell resize or remove it.</translation>
    </message>
    <message>
        <location filename="../../views/layout_editor.py" line="220"/>
        <source>布局名称</source>
        <translation>Layout name</translation>
    </message>
    <message>
        <location filename="../../views/layout_editor.py" line="244"/>
        <source>屏幕 %1 · %2</source>
        <translation>Screen %1 · %2</translation>
    </message>
    <message>
        <location filename="../../views/layout_editor.py" line="268"/>
        <source>行</source>
        <translation>Rows</translation>
    </message>
    <message>
        <location filename="../../views/layout_editor.py" line="268"/>
        <source>列</source>
        <translation>Columns</translation>
    </message>
    <message>
        <location filename="../../views/layout_editor.py" line="287"/>
        <source>无法修改：</source>
        <translation>Not changed: </translation>
    </message>
    <message>
        <location filename="../../views/layout_editor.py" line="291"/>
        <source>已修改，尚未保存</source>
        <translation>Changed, not saved</translation>
    </message>
    <message>
        <location filename="../../views/layout_editor.py" line="348"/>
        <source>保存失败：</source>
        <translation>Save failed: </translation>
    </message>
    <message>
        <location filename="../../views/layout_editor.py" line="351"/>
        <source>已保存：</source>
        <translation>Saved: </translation>
    </message>
</context>
<context>
    <name>Level</name>
    <message>
        <location filename="../../widgets/common.py" line="57"/>
        <source>红色</source>
        <translation>Red</translation>
    </message>
    <message>
        <location filename="../../widgets/common.py" line="58"/>
        <source>橙色</source>
        <translation>Orange</translation>
    </message>
    <message>
        <location filename="../../widgets/common.py" line="59"/>
        <source>黄色</source>
        <translation>Yellow</translation>
    </message>
    <message>
        <location filename="../../widgets/common.py" line="60"/>
        <source>蓝色</source>
        <translation>Blue</translation>
    </message>
</context>
<context>
    <name>LoginDialog</name>
    <message>
        <location filename="../../views/login.py" line="30"/>
        <source>登录 · 智慧城市运行中心</source>
        <translation>Log in · Intelligent Operations Center</translation>
    </message>
    <message>
        <location filename="../../views/login.py" line="45"/>
        <source>服务地址</source>
        <translation>Server</translation>
    </message>
    <message>
        <location filename="../../views/login.py" line="46"/>
        <source>用户名</source>
        <translation>User</translation>
    </message>
    <message>
        <location filename="../../views/login.py" line="47"/>
        <source>密码</source>
        <translation>Password</translation>
    </message>
    <message>
        <location filename="../../views/login.py" line="48"/>
        <source>大厅</source>
        <translation>Hall</translation>
    </message>
    <message>
        <location filename="../../views/login.py" line="50"/>
        <source>登录</source>
        <translation>Log in</translation>
    </message>
    <message>
        <location filename="../../views/login.py" line="51"/>
        <source>退出</source>
        <translation>Quit</translation>
    </message>
    <message>
        <location filename="../../views/login.py" line="68"/>
        <source>服务地址须以 ws:// 或 wss:// 开头</source>
        <translation>The server address must start with ws:// or wss://</translation>
    </message>
    <message>
        <location filename="../../views/login.py" line="71"/>
        <source>请输入用户名和密码</source>
        <translation>Enter a user name and password</translation>
    </message>
</context>
<context>
    <name>MessageBar</name>
    <message>
        <location filename="../../views/message_bar.py" line="34"/>
        <source>关闭消息</source>
        <translation>Close the message</translation>
    </message>
</context>
<context>
    <name>PanelFrame</name>
    <message>
        <location filename="../../views/page.py" line="58"/>
        <source>正在加载…</source>
        <translation>Loading…</translation>
    </message>
</context>
<context>
    <name>Panels</name>
    <message>
        <location filename="../../views/panels.py" line="160"/>
        <source>未知面板：</source>
        <translation>Unknown panel: </translation>
    </message>
    <message>
        <location filename="../../views/panels.py" line="167"/>
        <source>面板加载失败：</source>
        <translation>Panel failed to load: </translation>
    </message>
</context>
<context>
    <name>RedAlertBanner</name>
    <message>
        <location filename="../../widgets/red_alert.py" line="182"/>
        <source>确认 (Ctrl+Enter)</source>
        <translation>Acknowledge (Ctrl+Enter)</translation>
    </message>
    <message numerus="yes">
        <location filename="../../widgets/red_alert.py" line="204"/>
        <source>（另有 %n 条）</source>
        <translation>
            <numerusform> (+%n more)</numerusform>
            <numerusform> (+%n more)</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../widgets/red_alert.py" line="205"/>
        <source>红色告警</source>
        <translation>RED ALERT</translation>
    </message>
</context>
<context>
    <name>Role</name>
    <message>
        <location filename="../../widgets/common.py" line="88"/>
        <source>值班员</source>
        <translation>Operator</translation>
    </message>
    <message>
        <location filename="../../widgets/common.py" line="89"/>
        <source>指挥长</source>
        <translation>Commander</translation>
    </message>
    <message>
        <location filename="../../widgets/common.py" line="90"/>
        <source>值班主任</source>
        <translation>Duty officer</translation>
    </message>
    <message>
        <location filename="../../widgets/common.py" line="91"/>
        <source>委办局操作员</source>
        <translation>Bureau operator</translation>
    </message>
    <message>
        <location filename="../../widgets/common.py" line="92"/>
        <source>管理员</source>
        <translation>Administrator</translation>
    </message>
</context>
<context>
    <name>ScenarioDialog</name>
    <message>
        <location filename="../../views/scenario_dialog.py" line="35"/>
        <source>台风暴雨</source>
        <translation>Typhoon rainstorm</translation>
    </message>
    <message>
        <location filename="../../views/scenario_dialog.py" line="36"/>
        <source>南城高层建筑火灾</source>
        <translation>High-rise fire in Nancheng</translation>
    </message>
    <message>
        <location filename="../../views/scenario_dialog.py" line="37"/>
        <source>松山湖周边污染过程</source>
        <translation>Pollution episode around Songshan Lake</translation>
    </message>
    <message>
        <location filename="../../views/scenario_dialog.py" line="38"/>
        <source>校园一键报警</source>
        <translation>School one-click alarm</translation>
    </message>
    <message>
        <location filename="../../views/scenario_dialog.py" line="39"/>
        <source>燃气管网压力骤降</source>
        <translation>Gas-pressure drop</translation>
    </message>
    <message>
        <location filename="../../views/scenario_dialog.py" line="56"/>
        <source>%1 秒</source>
        <translation>%1 s</translation>
    </message>
    <message>
        <location filename="../../views/scenario_dialog.py" line="59"/>
        <source>%1 分钟</source>
        <translation>%1 min</translation>
    </message>
    <message>
        <location filename="../../views/scenario_dialog.py" line="61"/>
        <source>%1 小时</source>
        <translation>%1 h</translation>
    </message>
    <message>
        <location filename="../../views/scenario_dialog.py" line="62"/>
        <source>%1 小时 %2 分钟</source>
        <translation>%1 h %2 min</translation>
    </message>
    <message>
        <location filename="../../views/scenario_dialog.py" line="74"/>
        <source>演练</source>
        <translation>Drill</translation>
    </message>
    <message>
        <location filename="../../views/scenario_dialog.py" line="75"/>
        <source>在模拟城市中开始一次演练。演练数据经正常接入通道进入，各大厅都会收到演练产生的告警。</source>
        <translation>Start a drill in the simulated city. Its readings come in through the normal ingest doors, and every hall receives the alerts it raises.</translation>
    </message>
    <message>
        <location filename="../../views/scenario_dialog.py" line="80"/>
        <source>%1 · 剧情 %2</source>
        <translation>%1 · story %2</translation>
    </message>
    <message>
        <location filename="../../views/scenario_dialog.py" line="93"/>
        <source>开始演练</source>
        <translation>Start drill</translation>
    </message>
    <message>
        <location filename="../../views/scenario_dialog.py" line="96"/>
        <source>关闭</source>
        <translation>Close</translation>
    </message>
    <message>
        <location filename="../../views/scenario_dialog.py" line="99"/>
        <source>倍速</source>
        <translation>Speed</translation>
    </message>
    <message>
        <location filename="../../views/scenario_dialog.py" line="133"/>
        <source>约需 %1</source>
        <translation>takes about %1</translation>
    </message>
    <message>
        <location filename="../../views/scenario_dialog.py" line="138"/>
        <source>当前角色无权开始演练（值班主任或管理员可以）。</source>
        <translation>Your role may not start drills (duty officers and administrators may).</translation>
    </message>
    <message>
        <location filename="../../views/scenario_dialog.py" line="141"/>
        <source>未连接服务，不能开始演练。</source>
        <translation>Not connected to the service: no drill can be started.</translation>
    </message>
    <message>
        <location filename="../../views/scenario_dialog.py" line="161"/>
        <source>开始演练「%1」，%2 倍速？
演练告警会出现在所有大厅。</source>
        <translation>Start the drill “%1” at %2x?
Its alerts will appear in every hall.</translation>
    </message>
    <message>
        <location filename="../../views/scenario_dialog.py" line="163"/>
        <source>确认开始演练</source>
        <translation>Confirm drill</translation>
    </message>
    <message>
        <location filename="../../views/scenario_dialog.py" line="167"/>
        <source>发送中…</source>
        <translation>Sending…</translation>
    </message>
    <message>
        <location filename="../../views/scenario_dialog.py" line="177"/>
        <source>已排队，联网后发送</source>
        <translation>Queued; sent when back online</translation>
    </message>
    <message>
        <location filename="../../views/scenario_dialog.py" line="179"/>
        <source>演练已开始：%1（%2 倍速）</source>
        <translation>Drill started: %1 (%2x)</translation>
    </message>
    <message>
        <location filename="../../views/scenario_dialog.py" line="185"/>
        <source>服务说明：%1</source>
        <translation>Service says: %1</translation>
    </message>
</context>
<context>
    <name>ScreenView</name>
    <message>
        <location filename="../../views/screen_view.py" line="99"/>
        <source> · 红色告警，轮播暂停</source>
        <translation> · red alert, rotation paused</translation>
    </message>
    <message>
        <location filename="../../views/screen_view.py" line="101"/>
        <source> · 已暂停</source>
        <translation> · paused</translation>
    </message>
    <message>
        <location filename="../../views/screen_view.py" line="103"/>
        <source> · 操作中，轮播暂停</source>
        <translation> · in use, rotation paused</translation>
    </message>
</context>
<context>
    <name>Shell</name>
    <message>
        <location filename="../../views/shell.py" line="192"/>
        <source>确定退出控制台？</source>
        <translation>Quit the console?</translation>
    </message>
</context>
<context>
    <name>SituationSummary</name>
    <message>
        <location filename="../../widgets/situation.py" line="42"/>
        <source>告警</source>
        <translation> alerts</translation>
    </message>
    <message>
        <location filename="../../widgets/situation.py" line="45"/>
        <source>处置中事件</source>
        <translation>Active incidents</translation>
    </message>
    <message>
        <location filename="../../widgets/situation.py" line="46"/>
        <source>待决策</source>
        <translation>Decisions waiting</translation>
    </message>
    <message>
        <location filename="../../widgets/situation.py" line="47"/>
        <source>设备在线率</source>
        <translation>Devices online</translation>
    </message>
</context>
<context>
    <name>StartupSplash</name>
    <message>
        <location filename="../../views/startup_splash.py" line="35"/>
        <source>东莞市智慧城市运行中心 · IOC 控制台</source>
        <translation>Dongguan Intelligent Operations Center · IOC Console</translation>
    </message>
    <message>
        <location filename="../../views/startup_splash.py" line="18"/>
        <source>首次启动：正在生成城市模型（{n} 栋建筑）…</source>
        <translation>First start: generating the city model ({n} buildings)…</translation>
    </message>
    <message>
        <location filename="../../views/startup_splash.py" line="20"/>
        <source>首次启动：正在保存城市模型（{n} 栋建筑）…</source>
        <translation>First start: saving the city model ({n} buildings)…</translation>
    </message>
    <message>
        <location filename="../../views/startup_splash.py" line="22"/>
        <source>首次启动：正在部署模拟设备（{n} 台）…</source>
        <translation>First start: provisioning the simulated devices ({n})…</translation>
    </message>
    <message>
        <location filename="../../views/startup_splash.py" line="23"/>
        <source>正在启动本地同步服务…</source>
        <translation>Starting the local sync service…</translation>
    </message>
    <message>
        <location filename="../../views/startup_splash.py" line="52"/>
        <source>已用 {s} 秒</source>
        <translation>{s} s elapsed</translation>
    </message>
</context>
<context>
    <name>State</name>
    <message>
        <location filename="../../widgets/common.py" line="67"/>
        <source>新告警</source>
        <translation>New</translation>
    </message>
    <message>
        <location filename="../../widgets/common.py" line="68"/>
        <source>已确认</source>
        <translation>Acknowledged</translation>
    </message>
    <message>
        <location filename="../../widgets/common.py" line="69"/>
        <source>已派遣</source>
        <translation>Dispatched</translation>
    </message>
    <message>
        <location filename="../../widgets/common.py" line="70"/>
        <source>已解除</source>
        <translation>Resolved</translation>
    </message>
    <message>
        <location filename="../../widgets/common.py" line="71"/>
        <source>已关闭</source>
        <translation>Closed</translation>
    </message>
    <message>
        <location filename="../../widgets/common.py" line="72"/>
        <source>待处置</source>
        <translation>Open</translation>
    </message>
    <message>
        <location filename="../../widgets/common.py" line="73"/>
        <source>处置中</source>
        <translation>Active</translation>
    </message>
    <message>
        <location filename="../../widgets/common.py" line="74"/>
        <source>已控制</source>
        <translation>Contained</translation>
    </message>
    <message>
        <location filename="../../widgets/common.py" line="75"/>
        <source>待审批</source>
        <translation>Awaiting approval</translation>
    </message>
    <message>
        <location filename="../../widgets/common.py" line="76"/>
        <source>已批准</source>
        <translation>Approved</translation>
    </message>
    <message>
        <location filename="../../widgets/common.py" line="77"/>
        <source>已驳回</source>
        <translation>Rejected</translation>
    </message>
    <message>
        <location filename="../../widgets/common.py" line="78"/>
        <source>途中</source>
        <translation>En route</translation>
    </message>
    <message>
        <location filename="../../widgets/common.py" line="79"/>
        <source>到场</source>
        <translation>On scene</translation>
    </message>
    <message>
        <location filename="../../widgets/common.py" line="80"/>
        <source>完成</source>
        <translation>Done</translation>
    </message>
    <message>
        <location filename="../../widgets/common.py" line="81"/>
        <source>已取消</source>
        <translation>Cancelled</translation>
    </message>
</context>
<context>
    <name>TrendChart</name>
    <message>
        <location filename="../../widgets/trend_chart.py" line="27"/>
        <source>15 分钟</source>
        <translation>15 min</translation>
    </message>
    <message>
        <location filename="../../widgets/trend_chart.py" line="27"/>
        <source>1 小时</source>
        <translation>1 hour</translation>
    </message>
    <message>
        <location filename="../../widgets/trend_chart.py" line="28"/>
        <source>6 小时</source>
        <translation>6 hours</translation>
    </message>
    <message>
        <location filename="../../widgets/trend_chart.py" line="28"/>
        <source>24 小时</source>
        <translation>24 hours</translation>
    </message>
    <message>
        <location filename="../../widgets/trend_chart.py" line="29"/>
        <source>7 天</source>
        <translation>7 days</translation>
    </message>
    <message>
        <location filename="../../widgets/trend_chart.py" line="189"/>
        <source>历史数据不可用：</source>
        <translation>History not available: </translation>
    </message>
</context>
</TS>
